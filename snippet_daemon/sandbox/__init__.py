"""An embedded, local, Bitbucket-Cloud-compatible snippets server: try the product offline, test it.

Modules, each saying which real-API facts it mimics:

* :mod:`.server`: the HTTP/1.1 server and :class:`Sandbox`, its handle (start/stop, faults, request log);
* :mod:`.api`: the ``/2.0`` routes, permissions, request bodies and answers;
* :mod:`.render`: the JSON and multipart shapes of Bitbucket's answers;
* :mod:`.store` and :mod:`.gitstore`: SQLite metadata and git revisions under ``data_dir``;
* :mod:`.accounts`: users, workspaces, authentication and scopes;
* :mod:`.faults`: injected failures and the recorded requests;
* :mod:`.webpages`: minimal HTML pages for the ``links.html`` URLs;
* :mod:`.demo` and :mod:`.run`: demo content and the foreground runner behind ``snippet-daemon sandbox``.
"""

from .accounts import SandboxUser, default_users
from .faults import Faults, RecordedRequest
from .run import default_data_dir, run_sandbox
from .server import Sandbox

__all__ = [
    "Faults",
    "RecordedRequest",
    "Sandbox",
    "SandboxUser",
    "default_data_dir",
    "default_users",
    "run_sandbox",
]
