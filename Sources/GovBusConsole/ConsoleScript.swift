/// The pages' script: fetches the JSON API and draws each page; charts are plain SVG. A page
/// that shows the bus's state draws itself again when `/api/events` says the bus moved.
enum ConsoleScript {
    static let source = #"""
    "use strict";
    let me = null;
    const app = () => document.getElementById("app");
    const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
    const time = (t) => t ? new Date(t).toLocaleString() : "";
    const seconds = (s) => s < 120 ? `${s.toFixed(1)} s` : s < 7200 ? `${(s / 60).toFixed(1)} min` : s < 172800 ? `${(s / 3600).toFixed(1)} h` : `${(s / 86400).toFixed(1)} d`;
    const ago = (t) => seconds(Math.max(0, (Date.now() - new Date(t).getTime()) / 1000));
    const dossierLink = (d) => `<a href="/dossiers/${encodeURIComponent(d.dossierId)}">${esc(d.dossierId)}</a>`;
    async function api(path, options = {}) {
      const headers = {"Content-Type": "application/json"};
      if (me && options.method && options.method !== "GET") headers["X-CSRF-Token"] = me.csrfToken;
      const response = await fetch(path, {...options, headers, credentials: "same-origin"});
      if (response.status === 401) { location.href = "/login"; throw new Error("log in"); }
      if (!response.ok) {
        // Hummingbird says why as {"error": {"message": ...}}: the message is what a person reads.
        const text = await response.text();
        let message = text;
        try { message = JSON.parse(text).error.message || text; } catch (_) {}
        throw new Error(message || response.statusText);
      }
      return response.status === 204 ? null : response.json();
    }
    function table(columns, rows) {
      return "<table><tr>" + columns.map((c) => `<th>${esc(c[0])}</th>`).join("") + "</tr>" +
        rows.map((r) => `<tr class="${r.__class || ""}">` + columns.map((c) => `<td>${c[1](r)}</td>`).join("") + "</tr>").join("") + "</table>";
    }
    function bars(points, width = 720, height = 160) {
      if (points.length === 0) return "<p>No data yet.</p>";
      const max = Math.max(...points.map((p) => p.value), 1), w = width / points.length;
      return `<svg width="${width}" height="${height + 20}" role="img">` + points.map((p, i) =>
        `<rect x="${i * w + 1}" y="${height - p.value / max * height}" width="${Math.max(w - 2, 1)}" height="${p.value / max * height}" fill="#0b3d6e"><title>${esc(p.label)}: ${p.value}</title></rect>`).join("") +
        `<text x="2" y="${height + 15}" font-size="11">max ${max}</text></svg>`;
    }
    // One chart per name (a message type, an adapter): its messages per minute.
    function perName(points, key) {
      const minutes = [...new Set(points.map((p) => p.minute))].sort();
      const names = [...new Set(points.map((p) => p[key]))].sort();
      return `<div class="charts">` + names.map((name) => {
        const counts = minutes.map((m) => ({label: time(m), value: points.filter((p) => p.minute === m && p[key] === name).reduce((sum, p) => sum + p.count, 0)}));
        return `<figure><figcaption>${esc(name)} · ${counts.reduce((sum, c) => sum + c.value, 0)}</figcaption>${bars(counts, 260, 60)}</figure>`;
      }).join("") + `</div>`;
    }
    const pages = {
      async login() {
        app().innerHTML = `<h1>Log in</h1><form class="login"><input name="name" placeholder="name" autocomplete="username">
          <input name="password" type="password" placeholder="password" autocomplete="current-password"><button>Log in</button><p id="error"></p></form>`;
        app().querySelector("form").addEventListener("submit", async (event) => {
          event.preventDefault();
          const form = new FormData(event.target);
          // JSON, from this page's own origin (the browser adds Origin to a POST): what the login requires.
          try {
            const response = await fetch("/api/login", {method: "POST", headers: {"Content-Type": "application/json"}, credentials: "same-origin",
              body: JSON.stringify({name: form.get("name"), password: form.get("password")})});
            if (response.ok) { location.href = "/"; return; }
            const problem = await response.json().catch(() => null);
            document.getElementById("error").textContent = response.status === 401 ? "Wrong name or password." :
              (problem?.error?.message || response.statusText);
          } catch (error) { document.getElementById("error").textContent = error.message; }
        });
      },
      async overview() {
        const [o, charts] = await Promise.all([api("/api/overview"), api("/api/charts")]);
        const byMinute = {};
        for (const p of charts.throughput) byMinute[p.minute] = (byMinute[p.minute] || 0) + p.count;
        const types = {};
        for (const p of charts.throughput) types[p.type] = (types[p.type] || 0) + p.count;
        const buckets = [0, 0, 0, 0, 0, 0];
        for (const s of charts.completionSeconds) buckets[Math.min(5, Math.floor(Math.log10(Math.max(s, 0.1)) + 1))]++;
        app().innerHTML = `<h1>Overview</h1>` +
          (o.alerts.length ? o.alerts.map((a) => `<div class="alert">${esc(a)}</div>`).join("") : "<p>No alerts.</p>") +
          `<h2>Queues <small>(${esc(o.queueSource)})</small></h2>` +
          table([["queue", (q) => esc(q.name)], ["depth", (q) => q.messages], ["unacked", (q) => q.unacked ?? "–"],
                 ["consumers", (q) => q.consumers], ["publish/s", (q) => q.publishRate?.toFixed(1) ?? "–"], ["deliver/s", (q) => q.deliverRate?.toFixed(1) ?? "–"]], o.queues) +
          `<h2>Adapters</h2>` +
          table([["adapter", (a) => esc(a.name)], ["state", (a) => `<span class="${esc(a.state)}">${esc(a.state)}</span>`],
                 ["last heartbeat", (a) => time(a.lastHeartbeat)], ["version", (a) => esc(a.version)],
                 ["in (1 h)", (a) => a.messagesIn], ["out (1 h)", (a) => a.messagesOut]], o.adapters) +
          `<h2>Dossiers</h2>` + table([["state", (r) => esc(r[0])], ["dossiers", (r) => r[1]]], Object.entries(o.dossiers)) +
          `<h2>Messages per minute, last hour</h2>` + bars(Object.keys(byMinute).sort().map((m) => ({label: time(m), value: byMinute[m]}))) +
          `<h3>Per message type</h3>` + perName(charts.throughput, "type") +
          `<h3>Per adapter (what it sent)</h3>` + perName(charts.perAdapter, "adapter") +
          table([["type", (r) => esc(r[0])], ["messages (1 h)", (r) => r[1]]], Object.entries(types)) +
          `<h2>Dossier completion times, last day</h2>` +
          bars(["< 1 s", "1–10 s", "10–100 s", "100–1000 s", "< 3 h", "longer"].map((label, i) => ({label, value: buckets[i]})), 360);
      },
      async stuck() {
        const s = await api("/api/stuck");
        const columns = [["dossier", dossierLink], ["procedure", (d) => esc(d.procedureCode)], ["commune", commune],
                         ["unchanged since", (d) => `${time(d.updatedAt)} (${ago(d.updatedAt)})`],
                         ["legal deadline", (d) => time(d.legalDeadline) + (d.overdue ? " (overdue)" : "")]];
        const mark = (rows) => rows.map((d) => ({...d, __class: d.overdue ? "overdue" : ""}));
        app().innerHTML = `<h1>Stuck dossiers</h1><h2>Waiting longest, by state</h2>` +
          s.waiting.map((w) => `<h3>${esc(w.state)}</h3>` + (w.dossiers.length ? table(columns, mark(w.dossiers)) : "<p>None.</p>")).join("") +
          `<h2>Past their legal deadline, by commune</h2>` + (s.overdueByCommune.length
            ? (s.overdueCountedPartly ? `<p>Counted among the ${s.overdueByCommune.reduce((sum, c) => sum + c.overdue, 0)} longest overdue; there are more.</p>` : "") +
              s.overdueByCommune.map((c) => `<h3>Commune ${esc(c.communeCode)}${c.formerCodes.length ? ` (formerly ${c.formerCodes.map(esc).join(", ")})` : ""}: ${c.overdue} overdue</h3>` + table(columns, mark(c.dossiers))).join("")
            : "<p>No dossier is past its legal deadline.</p>");
      },
      async dossiers() {
        const query = new URLSearchParams(location.search);
        const rows = await api("/api/dossiers?" + query.toString());
        app().innerHTML = `<h1>Dossiers</h1><form method="get">
          <input name="q" placeholder="dossier id" value="${esc(query.get("q") || "")}">
          <input name="procedure" placeholder="procedure" value="${esc(query.get("procedure") || "")}">
          <input name="state" placeholder="state" value="${esc(query.get("state") || "")}">
          <input name="commune" placeholder="commune" value="${esc(query.get("commune") || "")}">
          <label><input type="checkbox" name="overdue" value="1" ${query.get("overdue") ? "checked" : ""}> overdue</label><button>Filter</button></form>` +
          table([["dossier", (d) => `<a href="/dossiers/${encodeURIComponent(d.dossierId)}">${esc(d.dossierId)}</a>`],
                 ["procedure", (d) => esc(d.procedureCode)], ["state", (d) => esc(d.state)], ["commune", commune],
                 ["applicant", (d) => esc(d.applicantName) + " " + esc(d.applicantPersonalId)], ["submitted", (d) => time(d.submittedAt)],
                 ["legal deadline", (d) => time(d.legalDeadline) + (d.overdue ? " (overdue)" : "")]],
                rows.map((d) => ({...d, __class: d.overdue ? "overdue" : ""})));
      },
      async dossier() {
        const id = decodeURIComponent(location.pathname.split("/").pop());
        const d = await api("/api/dossiers/" + encodeURIComponent(id));
        app().innerHTML = `<h1>Dossier ${esc(id)}</h1><p class="${d.dossier.overdue ? "overdue" : ""}">${esc(d.dossier.procedureName)} · ${esc(d.dossier.state)}
          · legal deadline ${time(d.dossier.legalDeadline)}${d.dossier.overdue ? " <strong>(overdue)</strong>" : ""}</p>` +
          (d.traceUrl ? `<p><a href="${esc(d.traceUrl)}" target="_blank" rel="noopener">Its trace in the tracing tool</a></p>` : "") +
          (me.role === "operator" && !["completed", "rejected"].includes(d.dossier.state)
            ? `<p>${d.dossier.state === "needs-attention" ? `<button data-decide="retry">Try the step again</button> ` : ""}<button data-decide="reject">Reject the dossier</button></p>` : "") +
          (me.role === "officer" && d.dossier.state === "awaiting-payment"
            ? `<form id="counter-payment"><h2>Fee paid at the counter</h2><input name="receiptNumber" placeholder="receipt number" required>
               <input name="amount" type="number" min="1" placeholder="amount (VND)" required><button>Record the payment</button></form>` : "") +
          `<h2>Steps</h2>` + (d.steps.length ? table([["step", (t) => esc(t.step)], ["asked", (t) => time(t.startedAt)],
                 ["took", (t) => seconds(t.seconds) + (t.endedAt ? "" : " (still waiting)")], ["tries", (t) => t.tries],
                 ["timeout of a try", (t) => t.timeoutSeconds == null ? "–" : seconds(t.timeoutSeconds)],
                 ["", (t) => t.timeoutSeconds == null ? "" : t.overTimeout ? "<span class='late'>longer than its timeout</span>" : "<span class='up'>within its timeout</span>"]],
                d.steps.map((t) => ({...t, __class: t.overTimeout ? "overdue" : ""}))) : "<p>No step asked yet.</p>") +
          `<h2>Timeline</h2>` +
          table([["time", (e) => time(e.at)], ["+ seconds", (e) => e.sincePrevious?.toFixed(2) ?? ""], ["from", (e) => esc(e.sender)],
                 ["to", (e) => esc(e.receivers.join(", ") || "core")], ["type", (e) => esc(e.type)]], d.timeline) +
          `<h2>State changes</h2>` + table([["time", (t) => time(t.at)], ["from", (t) => esc(t.from)], ["to", (t) => esc(t.to)],
                 ["note", (t) => esc(t.ignoredBecause)]], d.transitions);
        app().querySelector("#counter-payment")?.addEventListener("submit", async (event) => {
          event.preventDefault();
          const form = new FormData(event.target);
          try {
            await api(`/api/dossiers/${encodeURIComponent(id)}/counter-payment`,
              {method: "POST", body: JSON.stringify({receiptNumber: form.get("receiptNumber"), amount: Number(form.get("amount"))})});
            pages.dossier();
          } catch (error) {
            // Said beside the form, where the officer is looking.
            event.target.querySelector(".down")?.remove();
            event.target.insertAdjacentHTML("beforeend", `<p class="down">${esc(error.message)}</p>`);
          }
        });
        for (const button of app().querySelectorAll("button[data-decide]")) button.addEventListener("click", async () => {
          const reason = button.dataset.decide === "reject" ? prompt("Why is the dossier rejected?") : "";
          if (reason === null) return;
          try { await api(`/api/dossiers/${encodeURIComponent(id)}/${button.dataset.decide}`, {method: "POST", body: JSON.stringify({reason})}); pages.dossier(); }
          catch (error) { show(error); }
        });
      },
      async "dead-letters"() {
        const query = new URLSearchParams(location.search);
        const letters = await api("/api/dead-letters?" + query.toString());
        const actions = me.role === "operator";
        app().innerHTML = `<h1>Dead letters</h1><form method="get"><input name="type" placeholder="type" value="${esc(query.get("type") || "")}">
          <input name="sender" placeholder="sender" value="${esc(query.get("sender") || "")}"><input name="check" placeholder="check" value="${esc(query.get("check") || "")}">
          <button>Filter</button></form>` + (actions ? `<p><button data-bulk="replay">Replay all shown</button> <button data-bulk="discard">Discard all shown</button></p>` : "") +
          table([["id", (l) => l.id], ["time", (l) => time(l.at)], ["type", (l) => esc(l.type)], ["sender", (l) => esc(l.sender)],
                 ["check", (l) => esc(l.check)], ["reason", (l) => esc(l.reason)], ["attempts", (l) => l.attempts],
                 ["body", (l) => actions
                   ? `<details><summary>show / edit</summary><textarea rows="12" cols="70" data-edit="${l.id}">${esc(l.body)}</textarea><br><button data-edited="${l.id}">Replay edited</button></details>`
                   : `<details><summary>show</summary><pre>${esc(l.body)}</pre></details>`],
                 ["", (l) => actions ? `<button data-id="${l.id}" data-action="replay">Replay</button> <button data-id="${l.id}" data-action="discard">Discard</button>` : ""]], letters);
        for (const button of app().querySelectorAll("button[data-id]")) button.addEventListener("click", async () => {
          await api(`/api/dead-letters/${button.dataset.id}/${button.dataset.action}`, {method: "POST"}); pages["dead-letters"]();
        });
        for (const button of app().querySelectorAll("button[data-edited]")) button.addEventListener("click", async () => {
          const body = app().querySelector(`textarea[data-edit="${button.dataset.edited}"]`).value;
          try { await api(`/api/dead-letters/${button.dataset.edited}/replay`, {method: "POST", body: JSON.stringify({body})}); pages["dead-letters"](); }
          catch (error) { show(error); }
        });
        for (const button of app().querySelectorAll("button[data-bulk]")) button.addEventListener("click", async () => {
          await api(`/api/dead-letters/${button.dataset.bulk}?` + query.toString(), {method: "POST"}); pages["dead-letters"]();
        });
      },
      async audit() {
        const a = await api("/api/audit");
        app().innerHTML = `<h1>Audit</h1><p>${a.records} records; the chain ${a.intact ? "<span class='up'>verifies</span>" :
          `<span class='down'>is broken at record ${a.firstBroken}</span>: ${esc(a.reason)}`} (checked ${time(a.checkedAt)}).</p>`;
      },
    };
    // Live: the page draws itself again when the bus moves (at most twice a second), and notes how
    // long after the event that was, for the browser test and anyone curious.
    let pending = null, redrawing = false;
    async function redraw() {
      redrawing = true;
      while (pending) {
        const change = pending;
        pending = null;
        const page = document.body.dataset.page;
        // What someone is typing in, or a dead letter open to read or edit, stays as it is.
        const busy = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName) ||
          (page === "dead-letters" && app().querySelector("details[open]"));
        if (!busy) {
          try { await pages[page](); } catch (error) { show(error); }
          document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
          document.body.dataset.updateLatencyMs = String(Date.now() - change.sentAt);
          document.body.dataset.sequence = String(change.sequence);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      redrawing = false;
    }
    function followTheBus() {
      const live = document.getElementById("live");
      const events = new EventSource("/api/events");
      // A browser keeps 6 connections to a server, and an event stream holds one: a page left
      // (or kept in the back-forward cache) must give its stream back.
      window.addEventListener("pagehide", () => events.close());
      events.addEventListener("open", () => { live.textContent = "live"; live.className = "up"; });
      events.addEventListener("error", () => { live.textContent = "reconnecting…"; live.className = "late"; });
      events.addEventListener("change", (event) => {
        pending = JSON.parse(event.data);
        if (!redrawing) redraw();
      });
    }
    // A commune a reorganisation replaced shows its new code beside the one the dossier was filed under.
    function commune(d) { return esc(d.communeCode) + (d.communeNow ? ` → ${esc(d.communeNow)}` : ""); }
    function show(error) { app().insertAdjacentHTML("beforeend", `<p class="down">${esc(error.message)}</p>`); }
    document.addEventListener("DOMContentLoaded", async () => {
      const page = document.body.dataset.page;
      try {
        if (page !== "login") {
          me = await api("/api/me");
          document.getElementById("who").textContent = `${me.name} (${me.role})`;
        }
        await pages[page]();
        if (["overview", "dossiers", "dossier", "stuck", "dead-letters"].includes(page)) followTheBus();
      } catch (error) { show(error); }
    });
    """#
}
