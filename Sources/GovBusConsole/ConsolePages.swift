import Hummingbird
import NIOCore

/// The console's pages: a shell each, filled by console.js from the JSON API (so the pages and
/// scripts use the same API as anyone else). Pages of the bus's state follow `/api/events`.
enum ConsolePages {
    static let pages: [(path: String, page: String, title: String)] = [
        ("/", "overview", "Overview"), ("/dossiers", "dossiers", "Dossiers"), ("/dossiers/:id", "dossier", "Dossier"),
        ("/stuck", "stuck", "Stuck dossiers"), ("/dead-letters", "dead-letters", "Dead letters"), ("/audit", "audit", "Audit"),
        ("/login", "login", "Log in"),
    ]

    static func addRoutes(to router: Router<ConsoleContext>) {
        for (path, page, title) in pages {
            router.get(RouterPath(path)) { _, _ in html(shell(page: page, title: title)) }
        }
        router.get("/console.js") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/javascript; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: ConsoleScript.source)))
        }
        router.get("/console.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css"], body: .init(byteBuffer: ByteBuffer(string: style)))
        }
    }

    static func html(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8",
                .contentSecurityPolicy: "default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func shell(page: String, title: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>GovBus · \(title)</title>
        <link rel="stylesheet" href="/console.css"><script src="/console.js" defer></script></head>
        <body data-page="\(page)">
        <header><strong>GovBus console</strong>
        <nav><a href="/">Overview</a><a href="/dossiers">Dossiers</a><a href="/stuck">Stuck</a><a href="/dead-letters">Dead letters</a><a href="/audit">Audit</a></nav>
        <span id="live"></span><span id="who"></span></header>
        <main id="app"><h1>\(title)</h1><p>Loading…</p></main>
        </body></html>
        """
    }

    static let style = """
        body { font-family: system-ui, sans-serif; margin: 0; color: #1b1f24; background: #f6f7f9; }
        header { display: flex; gap: 2em; align-items: center; padding: .6em 1.2em; background: #0b3d6e; color: white; }
        header a { color: white; margin-right: 1em; text-decoration: none; }
        #live { margin-left: auto; } #who { margin-left: 1em; }
        header .up { color: #a8f0b8; } header .late { color: #ffd08a; }
        .charts { display: flex; flex-wrap: wrap; gap: 1em; margin-bottom: 1em; }
        figure { margin: 0; } figcaption { font-size: 12px; margin-bottom: .2em; }
        main { padding: 1em 1.5em; }
        table { border-collapse: collapse; background: white; margin-bottom: 1.5em; }
        th, td { border: 1px solid #d0d5dc; padding: .3em .6em; text-align: left; font-size: 14px; }
        th { background: #e8ecf1; }
        .up { color: #137333; font-weight: bold; } .late { color: #b06000; font-weight: bold; } .down { color: #c5221f; font-weight: bold; }
        .overdue { background: #fde7e7; }
        .alert { background: #fff4e5; border-left: 4px solid #b06000; padding: .4em .8em; margin: .3em 0; }
        pre { background: white; border: 1px solid #d0d5dc; padding: .6em; max-width: 60em; overflow: auto; }
        form.login { display: grid; gap: .6em; max-width: 20em; }
        svg { background: white; border: 1px solid #d0d5dc; }
        button { cursor: pointer; }
        """
}
