"""The editor's preview (`digest preview`): built editions in the browser, live.

    app.py              create_app(settings)
    site.py             the pages and actions (PreviewSite)
    live.py             watching inputs and outputs; waking open pages
    rebuild.py          rebuilding an edition; build problems to show
    sample.py           the sample subscriber whose copy is shown
    send_test.py        the send-a-test form
    pages.py            templates/ and static/
    server.py           uvicorn on a socket bound first (`digest preview`, `build --open`)
"""
