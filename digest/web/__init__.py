"""The web part: two separate apps sharing a small core.

    preview/   the editor's preview, on localhost (`digest preview`)
    public/    the public site (`digest serve`): unsubscribe, webhook, archive, health
    core/      what both use: bounded request bodies, listening sockets, page rendering
"""
