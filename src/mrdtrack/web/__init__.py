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
``mfa``            second factor: TOTP (RFC 6238) with replay refusal, the pending
                   login of the second sign-in step, enrolment secret and QR code
``patients``       patient list and patient page (site isolation)
``mrd_entry``      MRD entry: raw inputs → engine result (preview), stored (save)
``timeline``       registry patient → protocol timeline (the protocol engine's input)
``cohort``         the cohort dashboard: counts, Table 1, OS/EFS/CIR, MRD response;
                   small cells suppressed for the de-identified role
``filters``        the patient filters of the list and the dashboard (allowlists)
``cohort_routes``  routes: ``/cohort/figures/*.svg``; the dashboard page's body
``tools``          blinatumomab cycle plan (dose check and calendar)
``forms``          form text → typed values, errors naming the field
``auth``           routes: login, logout, account, health
``pages``          routes: HTML pages
``api``            routes: ``/api/v1`` JSON; the error and success body models (OpenAPI)
``cycle_entry``    a patient's blinatumomab cycle: verify, lay out, store (audited)
``cycle_records``  recorded blinatumomab cycles: the days they occupy, a stored calendar
``cycle_routes``   routes: ``/patients/{id}/blinatumomab`` pages and their JSON twins
``import_jobs``    uploaded imports: the file on disk, the job in a background thread,
                   its progress in memory (one server process)
``import_routes``  routes: ``/imports`` pages and ``/api/v1/imports`` JSON
``admin_routes``   routes: ``/admin`` pages and ``/api/v1/admin`` JSON over the service
                   ``administration``: accounts and sites (audited; every site)
=================  ==============================================================

The dashboard's column-wise registry snapshot is read by ``dashboard_data``, kept per
registry version by ``dashboard_cache`` and drawn as SVG by ``dashboard_figures``.
"""

from mrdtrack.web.app import create_app
from mrdtrack.web.config import WebSettings
from mrdtrack.web.policy import POLICY, Action, Role

__all__ = ["POLICY", "Action", "Role", "WebSettings", "create_app"]
