#!/usr/bin/env python3
"""Opens the console in headless Chromium as a person would: logs in through the login form,
opens each page, waits for it to draw from the API, checks what it shows, and keeps a
screenshot of each page.

    console_pages.py CONSOLE_URL USER PASSWORD DOSSIER_ID SCREENSHOT_FOLDER PORTAL_SANDBOX_URL

Then, on the overview, it submits a dossier through the portal sandbox and waits for the page to
draw itself again from the console's server-sent events, without a reload, and prints how long
after the event that took (measured in the page) and after the submission (measured here).

Driven over the Chrome DevTools Protocol (websocket-client). Exits 1 naming the first page that
does not show what it should."""
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

console, user, password, dossier, folder, portal_sandbox = sys.argv[1:7]
os.makedirs(folder, exist_ok=True)
chromium = shutil.which("chromium") or shutil.which("chromium-browser")
if not chromium:
    sys.exit("no chromium: apt-get install chromium")
profile = tempfile.mkdtemp(prefix="govbus-chromium-")
port = 9300 + os.getpid() % 500
browser = subprocess.Popen(
    [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", f"--remote-debugging-port={port}",
     f"--user-data-dir={profile}", "--window-size=1400,1000",
     # A page driven from outside is never in front: without these, Chromium may hold its events back.
     "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
     "--disable-backgrounding-occluded-windows", "about:blank"],
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

    def open_page(path, expect, name):
        call("Page.navigate", url=console + path)
        deadline = time.time() + 20
        text = ""
        while time.time() < deadline:
            time.sleep(0.3)
            text = evaluate("document.getElementById('app') ? document.getElementById('app').innerText : ''") or ""
            if "Loading" not in text and all(word in text for word in expect):
                break
        shot = call("Page.captureScreenshot", format="png")
        with open(os.path.join(folder, f"{name}.png"), "wb") as file:
            file.write(base64.b64decode(shot["data"]))
        missing = [word for word in expect if word not in text]
        if missing:
            sys.exit(f"{path} does not show {missing}; it shows:\n{text[:1500]}")
        print(f"{path}: shows {expect}; screenshot {name}.png")

    call("Page.enable")
    call("Page.navigate", url=console + "/login")
    time.sleep(1)
    evaluate(f"""(() => {{
        const form = document.querySelector('form.login');
        form.name.value = {json.dumps(user)}; form.password.value = {json.dumps(password)};
        form.requestSubmit(); return true; }})()""")
    # The form posts JSON from the console's own origin; on success the page goes to /.
    def pathname():
        try:
            return evaluate("location.pathname")
        except RuntimeError:  # between two pages
            return None

    deadline = time.time() + 10
    while time.time() < deadline and pathname() in ("/login", None):
        time.sleep(0.3)
    if pathname() == "/login":
        sys.exit("the login failed: " + (evaluate("(document.getElementById('error') || {}).textContent || ''") or "no answer"))
    open_page("/", ["govbus.core.ingress", "portal", "Adapters", "management-api"], "overview")
    open_page("/dossiers", [dossier], "dossiers")
    open_page(f"/dossiers/{dossier}", ["Steps", "identity", "timeout of a try", "Timeline", "portal.dossier.submitted.v1"], "dossier")
    open_page("/stuck", ["Waiting longest", "awaiting-document", dossier, "Past their legal deadline"], "stuck")
    open_page("/dead-letters", ["document.issue-requested.v1"], "dead-letters")
    open_page("/audit", ["verifies"], "audit")

    # Live: the overview draws itself again when the bus moves, without a reload.
    open_page("/", ["Per message type", "Per adapter"], "overview-live")
    deadline = time.time() + 10
    while time.time() < deadline and evaluate("document.getElementById('live').textContent") != "live":
        time.sleep(0.2)
    if evaluate("document.getElementById('live').textContent") != "live":
        sys.exit("the overview did not connect to /api/events")
    evaluate("window.notReloaded = true")
    time.sleep(1.5)  # the first event, on connecting, has been drawn
    # The dossiers the overview counts: the new one must show, not only some other movement.
    dossiers_shown = """(() => {
        const heading = [...document.querySelectorAll('h2')].find((h) => h.textContent === 'Dossiers');
        const cells = heading ? heading.nextElementSibling.querySelectorAll('td:nth-child(2)') : [];
        return [...cells].reduce((sum, cell) => sum + Number(cell.textContent), 0); })()"""
    shown_before = int(evaluate(dossiers_shown))
    before = int(evaluate("Number(document.body.dataset.sequence || 0)"))
    updates = int(evaluate("Number(document.body.dataset.updates || 0)"))
    submitted_at = time.time()
    request = urllib.request.Request(
        portal_sandbox + "/_sandbox/submit", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"count": 1, "paidShare": 0, "mismatchShare": 0, "seed": 11}).encode())
    urllib.request.urlopen(request, timeout=30).read()
    deadline = time.time() + 30
    while time.time() < deadline:
        if (int(evaluate("Number(document.body.dataset.sequence || 0)")) > before
                and int(evaluate("Number(document.body.dataset.updates || 0)")) > updates
                and int(evaluate(dossiers_shown)) > shown_before):
            break
        time.sleep(0.05)
    else:
        sys.exit(f"the overview did not show the new dossier within 30 s (it shows {evaluate(dossiers_shown)}, {shown_before} before)")
    seen_after = time.time() - submitted_at
    if evaluate("window.notReloaded") is not True:
        sys.exit("the overview was reloaded instead of drawn again")
    latency = evaluate("document.body.dataset.updateLatencyMs")
    shot = call("Page.captureScreenshot", format="png")
    with open(os.path.join(folder, "overview-updated.png"), "wb") as file:
        file.write(base64.b64decode(shot["data"]))
    # Both clocks are this machine's: the page's Date.now() less the server's sentAt.
    print(f"live update: drawn {latency} ms after the server's event; the new dossier shown {seen_after * 1000:.0f} ms after the submission (sampled every 50 ms)")
finally:
    browser.terminate()
    shutil.rmtree(profile, ignore_errors=True)
