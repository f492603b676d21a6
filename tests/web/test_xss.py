"""Stored and reflected XSS payloads render inert (reliability goal 20).

Payloads go into every free-text field the pages show; each page is parsed with an HTML
parser and must hold no script element, no event-handler attribute, and no
``javascript:``/``data:`` URL — the pages have none of their own.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from mrdtrack.registry.audit import AuditActor, set_actor
from mrdtrack.registry.database import open_registry
from mrdtrack.registry.records import demo_cohort, parse_cohort, to_mapping
from mrdtrack.registry.schema import init_registry
from mrdtrack.registry.store import load_cohort
from mrdtrack.web.accounts import create_user
from mrdtrack.web.security import PasswordHashing
from tests.web.support import DemoRegistry, FrozenClock, signed_in

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<body onload=alert(1)>",
    "<iframe src=javascript:alert(1)>",
    "<a href=javascript:alert(1)>x</a>",
    "<a href='jav&#x09;ascript:alert(1)'>x</a>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    '" onmouseover="alert(1)',
    "' onfocus='alert(1)' autofocus='",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<marquee onstart=alert(1)>",
    "<video><source onerror=alert(1)>",
    "<audio src=x onerror=alert(1)>",
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<style>@import 'javascript:alert(1)';</style>",
    "<link rel=stylesheet href=javascript:alert(1)>",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    "<base href=//evil.example/>",
    "<div style=background:url(javascript:alert(1))>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "<!--<script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "{{ 7*7 }}{% raw %}",
    "${alert(1)}",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "<svg/onload=alert`1`>",
    "<img src=1 oNeRrOr=alert(1)>",
    "<x onclick=alert(1)>click",
    '<a href="&#106;avascript:alert(1)">x</a>',
    "<isindex action=javascript:alert(1) type=image>",
    "<table background=javascript:alert(1)>",
    "<img dynsrc=javascript:alert(1)>",
    "<bgsound src=javascript:alert(1)>",
    "<keygen autofocus onfocus=alert(1)>",
    "<select autofocus onfocus=alert(1)>",
    "<textarea autofocus onfocus=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "\u2028<script>alert(1)</script>",
    "<script>alert(String.fromCharCode(88,83,83))</script>",
]
XSS_ID = "XSS-P01"


_ACTIVE_TAGS = {"script", "iframe", "object", "embed", "base", "meta", "svg", "math"}


class _Scan(HTMLParser):
    """Counts what could run: script elements, on* attributes, script-capable URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        own_meta = tag == "meta" and (
            ("charset", "utf-8") in attrs or ("name", "viewport") in attrs
        )
        if tag in _ACTIVE_TAGS and not own_meta:
            self.findings.append(f"<{tag}>")
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.findings.append(f"{tag}[{name}]")
            lowered = (value or "").strip().lower().replace("\t", "")
            if name.lower() in {
                "href",
                "src",
                "action",
                "data",
                "formaction",
            } and lowered.startswith(("javascript:", "data:", "vbscript:")):
                self.findings.append(f"{tag}[{name}={value}]")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def executable_nodes(html: str) -> list[str]:
    scan = _Scan()
    scan.feed(html)
    scan.close()
    return scan.findings


def _poisoned_registry(path: Path) -> DemoRegistry:
    mapping: dict[str, Any] = to_mapping(demo_cohort())
    patient = mapping["patients"][2]
    patient["study_id"] = XSS_ID
    patient["notes"] = "\n".join(PAYLOADS)
    patient["reconstructed"] = []
    patient["markers"][0]["definition"] = " ".join(PAYLOADS[:10])
    patient["adverse_events"] = [
        {
            "term": payload[:64],
            "onset_date": "2021-09-07",
            "resolved_date": None,
            "grade": 1,
            "scale": payload[:32],
            "grading_inputs": {"note": payload},
            "management": payload,
        }
        for payload in PAYLOADS
    ]
    for course in patient["treatments"]:
        course["details"] = {**course["details"], "comment": PAYLOADS[1]}
    patient["outcomes"][0]["detail"] = PAYLOADS[2]
    patient["diagnosis"]["risk_group"] = PAYLOADS[0][:64]
    mapping.update(id="xss", patients=[patient])
    document = parse_cohort(mapping, "xss fixture")
    url = f"sqlite:///{path / 'xss.sqlite3'}"
    registry = open_registry(url)
    init_registry(registry)
    with registry.transaction() as session:
        set_actor(session, AuditActor("test-setup"))
        load_cohort(session, document)
        account = create_user(
            session,
            PasswordHashing(),
            username="clinician",
            role="clinician",
            display_name=PAYLOADS[2],
            must_change_password=False,
        )
    registry.dispose()
    return DemoRegistry(url, {"clinician": account.password})


def test_the_scanner_finds_what_it_must() -> None:
    assert executable_nodes(PAYLOADS[0]) == ["<script>"]
    assert executable_nodes(PAYLOADS[2]) == ["img[onerror]"]
    assert executable_nodes(PAYLOADS[7]) == ["a[href=javascript:alert(1)]"]
    assert executable_nodes("&lt;script&gt;alert(1)&lt;/script&gt;") == []


def test_stored_payloads_render_inert(tmp_path: Path, clock: FrozenClock) -> None:
    poisoned = _poisoned_registry(tmp_path)
    with signed_in(poisoned, clock, "clinician") as (client, token):
        pages = {
            "patient": client.get(f"/patients/{XSS_ID}"),
            "list": client.get("/patients"),
            "entry": client.get(f"/patients/{XSS_ID}/mrd/new"),
            "cohort": client.get("/cohort"),
            "account": client.get("/account"),
        }
        for name, response in pages.items():
            assert response.status_code == 200, name
            assert executable_nodes(response.text) == [], name
        patient_page = pages["patient"].text
        assert patient_page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2
        api = client.get(f"/api/v1/patients/{XSS_ID}")
        assert api.headers["content-type"].startswith("application/json")
        assert api.json()["notes"] == "\n".join(PAYLOADS)  # stored as typed, escaped on output
        del token


def test_reflected_payloads_render_inert(demo_registry: DemoRegistry, clock: FrozenClock) -> None:
    with signed_in(demo_registry, clock, "clinician") as (client, token):
        for payload in PAYLOADS:
            pages = [
                client.get("/patients", params={"q": payload[:64]}),
                client.get("/patients", params={"subtype": payload}),
                client.get("/tools/crs", params={"temperature_c": payload, "hypoxia": payload}),
                client.get(
                    "/tools/blinatumomab", params={"weight_kg": payload, "indication": "mrd"}
                ),
                client.post(
                    "/patients/SEED1-P03/mrd/new",
                    data={"csrf_token": token, "method": "flow", "timepoint": payload},
                ),
                client.post(
                    "/patients/new",
                    data={
                        "csrf_token": token,
                        "study_id": payload[:64],
                        "site_code": payload[:32],
                        "sex": payload,
                        "risk_group": payload,
                        "protocol": payload,
                        "reason": payload,
                    },
                ),
                client.post(
                    "/patients/SEED1-P03/adverse-events/new",
                    data={
                        "csrf_token": token,
                        "term": payload,
                        "onset_date": payload,
                        "management": payload,
                        "temperature_c": payload,
                    },
                ),
                client.post(
                    "/patients/SEED1-P03/adverse-events/new",
                    data={
                        "csrf_token": token,
                        "term": "other",
                        "onset_date": "2000-01-01",
                        "ctcae_term": payload,
                        "ctcae_grade": payload,
                        "action": "compute",
                    },
                ),
                client.post(
                    "/patients/SEED1-P03/outcomes/new",
                    data={"csrf_token": token, "kind": payload, "detail": payload},
                ),
            ]
            for response in pages:
                assert response.status_code in {200, 422}, payload
                assert executable_nodes(response.text) == [], payload


def test_payloads_saved_through_the_entry_forms_render_inert(
    tmp_path: Path, clock: FrozenClock
) -> None:
    poisoned = _poisoned_registry(tmp_path)
    with signed_in(poisoned, clock, "clinician") as (client, token):
        for number, payload in enumerate(PAYLOADS[:12]):
            study_id = f"XSS-N{number:02d}"
            created = client.post(
                "/patients/new",
                data={
                    "csrf_token": token,
                    "study_id": study_id,
                    "site_code": "CGMH",
                    "sex": "male",
                    "diagnosis_date": "2024-01-02",
                    "genetic_subtype": "other",
                    "risk_group": payload[:64],
                    "protocol": payload[:64],
                    "reason": payload,
                },
            )
            assert created.status_code == 303, payload
            event = client.post(
                f"/patients/{study_id}/adverse-events/new",
                data={
                    "csrf_token": token,
                    "term": "other",
                    "onset_date": "2024-02-01",
                    "ctcae_term": payload,
                    "ctcae_grade": "2",
                    "management": payload,
                    "action": "save",
                },
            )
            assert event.status_code == 303, payload
            outcome = client.post(
                f"/patients/{study_id}/outcomes/new",
                data={
                    "csrf_token": token,
                    "kind": "relapse",
                    "event_date": "2024-03-01",
                    "detail": payload,
                },
            )
            assert outcome.status_code == 303, payload
            for url in (
                f"/patients/{study_id}",
                f"/patients/{study_id}/adverse-events/new",
                f"/patients/{study_id}/outcomes/new",
            ):
                response = client.get(url)
                assert response.status_code == 200, url
                assert executable_nodes(response.text) == [], (url, payload)
        listing = client.get("/patients", params={"q": "XSS-N"})
        assert listing.status_code == 200
        assert executable_nodes(listing.text) == []
        assert executable_nodes(client.get("/patients/new").text) == []
