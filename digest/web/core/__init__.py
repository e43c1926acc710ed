"""What the preview and the public site share: bounded bodies, listening sockets, page rendering."""
