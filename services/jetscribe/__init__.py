"""jetscribe's clients: `jetscribe.client` (REST, sync and asyncio), `jetscribe.upstream`
(submitting and following jobs straight on NATS) and the `jetscribe` command.

Installed as the `jetscribe` package (pyproject maps it to this folder); it needs
neither the services nor their heavy dependencies: `pip install 'jetscribe[client]'`.
"""

from .errors import JetscribeError

__all__ = ["JetscribeError"]
