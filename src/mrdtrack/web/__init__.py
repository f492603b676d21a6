"""The web application: registry pages, forms and a JSON API over the service layer.

FastAPI with server-rendered Jinja2 templates (autoescaped) and no JavaScript: forms
post to the server, which runs the same service functions as the CLI and the API.

=================  ==============================================================
module             concept
=================  ==============================================================
``app``            :func:`create_app`: wiring, error → HTTP status mapping
``config``         :class:`WebSettings`: timeouts, lockout, cookies, with help text
``security``       argon2id hashing, server-side sessions, login throttle, tokens
``policy``         the one role × action table
``middleware``     security headers, generic 500s, PHI-free access log; the session
                   and CSRF gate
``context``        shared state, authorization dependency, audited unit of work
``accounts``       user accounts: create (one-time password), authenticate, change
``patients``       patient list and patient page (site isolation)
``mrd_entry``      MRD entry: raw inputs → engine result (preview), stored (save)
``timeline``       registry patient → protocol timeline (the protocol engine's input)
``cohort``         dashboard counts and the MRD response table (de-identified)
``tools``          blinatumomab cycle plan (dose check and calendar)
``forms``          form text → typed values, errors naming the field
``auth``           routes: login, logout, account, health
``pages``          routes: HTML pages
``api``            routes: ``/api/v1`` JSON
=================  ==============================================================
"""

from mrdtrack.web.app import create_app
from mrdtrack.web.config import WebSettings
from mrdtrack.web.policy import POLICY, Action, Role

__all__ = ["POLICY", "Action", "Role", "WebSettings", "create_app"]
