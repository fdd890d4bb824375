#!/usr/bin/env python3
"""An officer at the one-stop counter records a cash payment in the console, in headless Chromium,
as a person would: logs in through the login form, opens a dossier awaiting its fee, types a
wrong amount first (the page must say why it is refused), then the fee due, and waits for the
dossier to move on without a reload. Keeps a screenshot of each step.

    counter_payment.py CONSOLE_URL USER PASSWORD DOSSIER_ID SCREENSHOT_FOLDER

Exits 1 naming the step that did not show what it should."""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

console, user, password, dossier, folder = sys.argv[1:6]
os.makedirs(folder, exist_ok=True)
chromium = shutil.which("chromium") or shutil.which("chromium-browser")
if not chromium:
    sys.exit("no chromium: apt-get install chromium")
profile = tempfile.mkdtemp(prefix="govbus-chromium-")
port = 9800 + os.getpid() % 500
browser = subprocess.Popen(
    [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", f"--remote-debugging-port={port}",
     f"--user-data-dir={profile}", "--window-size=1400,1000", "--disable-background-timer-throttling",
     "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows", "about:blank"],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(100):
        try:
            targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
            page = next(t for t in targets if t["type"] == "page")
            break
        except Exception:
            time.sleep(0.1)
    else:
        sys.exit("chromium did not start")
    socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
    counter = 0

    def call(method, **params):
        global counter
        counter += 1
        socket.send(json.dumps({"id": counter, "method": method, "params": params}))
        while True:
            message = json.loads(socket.recv())
            if message.get("id") == counter:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(expression):
        result = call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def text():
        try:
            return evaluate("document.getElementById('app') ? document.getElementById('app').innerText : ''") or ""
        except RuntimeError:  # between two pages
            return ""

    def screenshot(name):
        shot = call("Page.captureScreenshot", format="png")
        with open(os.path.join(folder, f"{name}.png"), "wb") as file:
            file.write(base64.b64decode(shot["data"]))

    def wait_for(condition, seconds, failure, name):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if condition(text()):
                screenshot(name)
                print(f"{name}: done; screenshot {name}.png")
                return
            time.sleep(0.3)
        screenshot(name)
        sys.exit(f"{failure}; the page shows:\n{text()[:1500]}")

    call("Page.enable")
    call("Page.navigate", url=console + "/login")
    time.sleep(1)
    evaluate(f"""(() => {{
        const form = document.querySelector('form.login');
        form.name.value = {json.dumps(user)}; form.password.value = {json.dumps(password)};
        form.requestSubmit(); return true; }})()""")
    deadline = time.time() + 10
    while time.time() < deadline and evaluate("location.pathname") == "/login":
        time.sleep(0.3)

    # The dossier's page offers the form while the dossier awaits its fee.
    deadline = time.time() + 60
    while time.time() < deadline:
        call("Page.navigate", url=f"{console}/dossiers/{dossier}")
        time.sleep(1)
        if "Fee paid at the counter" in text():
            break
    wait_for(lambda shown: "Fee paid at the counter" in shown, 1, "no counter-payment form on a dossier awaiting its fee", "counter-form")
    fee = evaluate(f"""fetch('/api/dossiers/{dossier}').then((r) => r.json()).then((d) =>
        JSON.parse(d.timeline.filter((e) => e.type === 'payment.fee.requested.v1').pop().body).amount)""")

    def pay(amount, receipt):
        evaluate(f"""(() => {{
            const form = document.getElementById('counter-payment');
            form.receiptNumber.value = {json.dumps(receipt)}; form.amount.value = {json.dumps(str(amount))};
            form.requestSubmit(); return true; }})()""")

    pay(fee - 1000, "BL-BROWSER-1")
    wait_for(lambda shown: f"the fee due is {fee} VND" in shown, 10, "a wrong amount was not refused with why", "counter-refused")
    pay(fee, "BL-BROWSER-2")
    wait_for(lambda shown: "payment.fee.paid.v2" in shown and "operator.fee.paid-at-counter" in shown
             and "Fee paid at the counter" not in shown, 30, "the payment did not move the dossier on", "counter-paid")
    print(f"counter payment in the browser: {fee} VND recorded by {user}; a wrong amount refused with why")
finally:
    browser.terminate()
    shutil.rmtree(profile, ignore_errors=True)
