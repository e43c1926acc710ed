"""`digest warm`: a process that has already imported what a build needs, so that `digest build`
starts at once.

A new Python process spends about 0.35 s importing pydantic-settings, SQLAlchemy, premailer,
Jinja2 and mjml-python before a build can begin, which is most of a build. The warm server pays
that once: it imports them, then waits on a Unix socket. `digest build` (digest.launch, before
anything heavy is imported) hands its command line, environment, working folder, umask and its
standard input, output and error (the file descriptors themselves) to the server, which forks a
child to run the command exactly as a new process would, and sends back its exit status.
Mercurial's `chg` works the same way.

- Nothing is shared between builds: each runs in a child forked from the server as it was after
  its imports (no settings read, no database opened, no cache filled), with the client's
  environment and folder applied before the CLI is imported.
- The server's code is the code on disk: before each build it compares the stat of every file
  of the `digest` package and of every folder on sys.path with what they were when it started.
  After any change it builds nothing, lets the client build in a process of its own, and starts
  itself afresh.
- Only the user who started it can use it: its folder is private (0700, checked by client and
  server) and the server checks each caller's uid (SO_PEERCRED).
- The client forwards the signals a terminal sends (Ctrl-C, hang-up, termination) to the build;
  a client that dies stops its build.
- Only `digest build` is handed over; a server that is not running, not answering or out of date
  simply means the build runs in a process of its own, as without it.

wire.py owns the socket's place and the messages; client.py is what `digest build` runs first
(standard library only); server.py is the server; control.py starts, stops and asks it.
"""
