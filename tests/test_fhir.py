"""``ratetool export --format fhir`` and importing a FHIR Bundle back (docs/fhir.md).

Every exported Questionnaire, QuestionnaireResponse and the Bundle are validated with the
``fhir.resources`` R4B models (a test dependency); ``bundle_problems`` adds the checks those
models do not make (codes from their value sets, linkIds, answers within min/max, canonicals that
resolve inside the bundle, conditional requests), and is itself shown to find each problem.
No network: nothing is posted anywhere.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from typer.testing import CliRunner

from ratetool.cli import app
from ratetool.config import load_config, parse_config, save_config
from ratetool.errors import ConfigError
from ratetool.instruments import load_builtin
from ratetool.model import Rating
from ratetool.store import open_store

CET = timezone(timedelta(hours=1))
EST = timezone(timedelta(hours=-5))
CHECKIN_ITEMS = ("empathy", "warmth", "genuineness", "trust")
CORE_ITEMS = load_builtin("core").item_ids
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
QR_STATUSES = {"completed", "amended", "entered-in-error"}  # those ratetool writes
Q_STATUSES = {"draft", "active", "retired", "unknown"}  # FHIR PublicationStatus


def run(*args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (result.output, result.exception)
    return result


def checkin(client: str = "C-014", n: int = 0, **changes: Any) -> Rating:
    base: dict[str, Any] = dict(
        id=str(uuid.uuid4()),
        client=client,
        session=0,
        rated_at=datetime(2026, 10, 6, 10, 50, tzinfo=CET) + timedelta(days=7 * n),
        instrument="checkin",
        instrument_version=1,
        answers=dict(zip(CHECKIN_ITEMS, ((3 + n) % 11, 9, 7, 10))),
        practitioner="AB",
    )
    base.update(changes)
    return Rating(**base)


def core(client: str = "C-021", n: int = 0) -> Rating:
    skip = ("warmth_2",)
    return Rating(
        id=str(uuid.uuid4()),
        client=client,
        session=0,
        rated_at=datetime(2026, 10, 7, 16, 5, tzinfo=EST) + timedelta(days=7 * n),
        instrument="core",
        instrument_version=1,
        answers={i: 1 + (k + n) % 5 for k, i in enumerate(CORE_ITEMS) if i not in skip},
        skipped=skip,
        comment='Said "better" twice;\nline two, ünïcode' if n == 0 else None,
    )


@pytest.fixture
def seeded(data_dir: Path) -> Path:
    """Two checkin clients and a core client; C-014's session 2 amended, session 3 voided."""
    store = open_store(data_dir)
    store.add([checkin(n=n) for n in range(4)] + [checkin("C-007", n=1)] + [core(n=0), core(n=1)])
    run("amend", "C-014", "2", "--answers", "1,2,3,4", "--reason", "typo", "--yes")
    run("void", "C-014", "3", "--reason", "wrong client", "--yes")
    return data_dir


def export_bundle(tmp_path: Path, *args: str, name: str = "bundle.json") -> tuple[Path, Any]:
    out = tmp_path / name
    result = run("export", "--format", "fhir", "--output", str(out), *args)
    return out, result


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def responses(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    ]


# -- the checks fhir.resources does not make ----------------------------------------------------


def bundle_problems(bundle: dict[str, Any]) -> list[str]:
    """Everything wrong with an exported bundle that the R4B models let through."""
    problems: list[str] = []
    if bundle.get("type") != "transaction":
        problems.append(f"bundle type {bundle.get('type')}")
    questionnaires: dict[str, dict[str, Any]] = {}
    full_urls: list[str] = []
    for index, entry in enumerate(bundle["entry"]):
        full_urls.append(entry["fullUrl"])
        if not entry["fullUrl"].startswith("urn:uuid:"):
            problems.append(f"entry {index}: fullUrl {entry['fullUrl']}")
        else:
            uuid.UUID(entry["fullUrl"].removeprefix("urn:uuid:"))
        resource, request = entry["resource"], entry["request"]
        if request["method"] != "PUT":
            problems.append(f"entry {index}: method {request['method']}")
        if resource["resourceType"] == "Questionnaire":
            if resource["status"] not in Q_STATUSES:
                problems.append(f"entry {index}: Questionnaire status {resource['status']}")
            canonical = f"{resource['url']}|{resource['version']}"
            questionnaires[canonical] = resource
            want = f"Questionnaire?url={resource['url']}&version={resource['version']}"
            if unquote(request["url"]) != want:
                problems.append(f"entry {index}: request {request['url']}")
    for index, entry in enumerate(bundle["entry"]):
        qr = entry["resource"]
        if qr["resourceType"] != "QuestionnaireResponse":
            continue
        if qr["status"] not in QR_STATUSES:
            problems.append(f"entry {index}: status {qr['status']}")
        ident = qr["identifier"]
        want = f"QuestionnaireResponse?identifier={ident['system']}|{ident['value']}"
        if unquote(entry["request"]["url"]) != want:
            problems.append(f"entry {index}: request {entry['request']['url']}")
        if datetime.fromisoformat(qr["authored"]).utcoffset() is None:
            problems.append(f"entry {index}: authored without offset")
        q = questionnaires.get(qr["questionnaire"])
        if q is None:
            problems.append(f"entry {index}: questionnaire {qr['questionnaire']} not in bundle")
            continue
        q_items = {i["linkId"]: i for i in q["item"]}
        answered = set()
        for item in qr.get("item", []):
            link = item["linkId"]
            answered.add(link)
            if link not in q_items:
                problems.append(f"entry {index}: linkId {link} not in its Questionnaire")
                continue
            (answer,) = item["answer"]
            if q_items[link]["type"] == "integer":
                ext = {e["url"]: e["valueInteger"] for e in q_items[link]["extension"]}
                value = answer["valueInteger"]
                if not ext[MIN_VALUE] <= value <= ext[MAX_VALUE]:
                    problems.append(f"entry {index}: {link}={value} outside min/max")
            elif "valueString" not in answer:
                problems.append(f"entry {index}: {link} is not a valueString")
        for link, q_item in q_items.items():
            if q_item["required"] and link not in answered:
                problems.append(f"entry {index}: required {link} not answered")
    if len(set(full_urls)) != len(full_urls):
        problems.append("a fullUrl is used twice")
    return problems


def test_the_bundle_and_every_resource_validate(seeded: Path, tmp_path: Path) -> None:
    path, result = export_bundle(tmp_path)
    assert "Exported 7 ratings (1 voided) of 3 clients" in result.output
    bundle = load(path)
    Bundle.model_validate(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Questionnaire"] * 2 + ["QuestionnaireResponse"] * 7
    for entry in bundle["entry"]:
        model = Questionnaire if entry["resource"]["resourceType"] == "Questionnaire" else None
        (model or QuestionnaireResponse).model_validate(entry["resource"])
    assert bundle_problems(bundle) == []


def test_the_questionnaire_is_the_instrument(seeded: Path, tmp_path: Path) -> None:
    bundle = load(export_bundle(tmp_path)[0])
    checkin_q, core_q = (e["resource"] for e in bundle["entry"][:2])
    assert checkin_q["url"] == "urn:ratetool:instrument:checkin" and checkin_q["version"] == "1"
    assert checkin_q["name"] == "Checkin" and checkin_q["status"] == "active"
    assert checkin_q["title"] == load_builtin("checkin").title
    assert [i["linkId"] for i in checkin_q["item"]] == [*CHECKIN_ITEMS, "comment"]
    first = checkin_q["item"][0]
    assert first["type"] == "integer" and first["required"] is True
    assert first["text"] == load_builtin("checkin").items[0].text
    assert first["extension"] == [
        {"url": MIN_VALUE, "valueInteger": 0},
        {"url": MAX_VALUE, "valueInteger": 10},
    ]
    assert checkin_q["item"][-1] == {
        "linkId": "comment",
        "text": "Comment",
        "type": "text",
        "required": False,
    }
    assert all(not i["required"] for i in core_q["item"])  # core allows skipping
    assert bundle["entry"][0]["request"] == {
        "method": "PUT",
        "url": "Questionnaire?url=urn:ratetool:instrument:checkin&version=1",
    }


@pytest.mark.parametrize(
    ("instrument_id", "name"),
    [("checkin", "Checkin"), ("my-scale_2", "My_scale_2"), ("2q", "Q2q"), ("_x", "Q_x")],
)
def test_the_questionnaire_name_is_a_machine_name(instrument_id: str, name: str) -> None:
    from ratetool.exporters.fhir import machine_name

    assert machine_name(instrument_id) == name
    assert re.fullmatch(r"[A-Z][A-Za-z0-9_]{0,254}", name)  # FHIR's constraint que-0


def test_each_rating_is_a_questionnaire_response(seeded: Path, tmp_path: Path) -> None:
    stored = {r.id: r for r in open_store(seeded).read_all().ratings}
    bundle = load(export_bundle(tmp_path)[0])
    by_status: dict[str, list[dict[str, Any]]] = {}
    for entry in bundle["entry"][2:]:
        qr = entry["resource"]
        by_status.setdefault(qr["status"], []).append(qr)
        rid = qr["identifier"]["value"].removeprefix("urn:uuid:")
        assert qr["identifier"] == {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{rid}"}
        assert entry["fullUrl"] == f"urn:uuid:{rid}"
        assert entry["request"] == {
            "method": "PUT",
            "url": f"QuestionnaireResponse?identifier=urn:ietf:rfc:3986|urn:uuid:{rid}",
        }
        if rid in stored:
            r = stored[rid]
            assert qr["subject"] == {
                "identifier": {"system": "urn:ratetool:client", "value": r.client}
            }
            assert qr["authored"] == r.rated_at.isoformat()
            assert qr["questionnaire"] == f"urn:ratetool:instrument:{r.instrument}|1"
            answers = {i["linkId"]: i["answer"][0] for i in qr.get("item", [])}
            assert {k: v["valueInteger"] for k, v in answers.items() if k != "comment"} == (
                r.answers
            )
            if r.practitioner:
                assert qr["author"] == {"identifier": {"value": r.practitioner}}
            else:
                assert "author" not in qr
    assert sorted((k, len(v)) for k, v in by_status.items()) == [
        ("amended", 1),
        ("completed", 5),
        ("entered-in-error", 1),
    ]
    (amended,) = by_status["amended"]
    assert [i["answer"][0]["valueInteger"] for i in amended["item"]] == [1, 2, 3, 4]
    core_first = next(
        qr for qr in by_status["completed"] if qr["authored"].startswith("2026-10-07")
    )
    links = [i["linkId"] for i in core_first["item"]]
    assert "warmth_2" not in links  # skipped: left out
    assert links[-1] == "comment"
    assert core_first["item"][-1]["answer"] == [
        {"valueString": 'Said "better" twice;\nline two, ünïcode'}
    ]
    assert core_first["authored"] == "2026-10-07T16:05:00-05:00"


def test_the_own_checks_find_what_they_check(seeded: Path, tmp_path: Path) -> None:
    bundle = load(export_bundle(tmp_path)[0])
    assert bundle_problems(bundle) == []

    def broken(change: Any) -> list[str]:
        copied = copy.deepcopy(bundle)
        change(copied["entry"][2]["resource"], copied)
        return bundle_problems(copied)

    def status(qr: dict[str, Any], b: dict[str, Any]) -> None:
        qr["status"] = "in-progress"

    def link(qr: dict[str, Any], b: dict[str, Any]) -> None:
        qr["item"][0]["linkId"] = "nosuch"

    def value(qr: dict[str, Any], b: dict[str, Any]) -> None:
        qr["item"][0]["answer"][0]["valueInteger"] = 11

    def canonical(qr: dict[str, Any], b: dict[str, Any]) -> None:
        qr["questionnaire"] = "urn:ratetool:instrument:checkin|2"

    def kind(qr: dict[str, Any], b: dict[str, Any]) -> None:
        b["type"] = "collection"

    assert "status in-progress" in broken(status)[0]
    assert "linkId nosuch not in its Questionnaire" in broken(link)[0]
    assert "outside min/max" in broken(value)[0]
    assert "not in bundle" in broken(canonical)[0]
    assert broken(kind) == ["bundle type collection"]


# -- choosing what goes in -----------------------------------------------------------------------


def test_voided_are_included_by_default_and_can_be_left_out(seeded: Path, tmp_path: Path) -> None:
    bundle = load(export_bundle(tmp_path)[0])
    assert "entered-in-error" in {qr["status"] for qr in responses(bundle)}
    path, result = export_bundle(tmp_path, "--leave-out-voided", name="b2.json")
    assert "entered-in-error" not in {qr["status"] for qr in responses(load(path))}
    assert len(responses(load(path))) == 6
    assert "1 voided rating left out" in result.output
    csv = tmp_path / "out.csv"
    run("export", "--output", str(csv))  # the other formats still leave them out
    assert "entered-in-error" not in csv.read_text(encoding="utf-8")


def test_client_and_since_choose_the_ratings(seeded: Path, tmp_path: Path) -> None:
    path, _ = export_bundle(tmp_path, "--client", "C-014", "--since", "2026-10-13")
    bundle = load(path)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Questionnaire"] + ["QuestionnaireResponse"] * 3  # core not used: no Q
    assert {qr["subject"]["identifier"]["value"] for qr in responses(bundle)} == {"C-014"}
    assert min(qr["authored"] for qr in responses(bundle)) >= "2026-10-13"
    assert bundle_problems(bundle) == []


def test_the_same_ratings_give_the_same_bytes_and_stdout_works(
    seeded: Path, tmp_path: Path
) -> None:
    first, _ = export_bundle(tmp_path, name="a.json")
    second, _ = export_bundle(tmp_path, name="b.json")
    assert first.read_bytes() == second.read_bytes()
    shown = CliRunner().invoke(app, ["export", "--format", "fhir", "--output", "-"])
    assert shown.exit_code == 0
    assert shown.stdout.encode("utf-8") == first.read_bytes()


def test_json_lines_is_still_the_default_for_dot_json(seeded: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    run("export", "--output", str(out))
    assert out.read_text(encoding="utf-8").startswith('{"id": ')
    result = run("export", "--format", "fhir", "--output", str(tmp_path / "x.csv"), code=1)
    assert "does not match the file name" in result.output


def test_a_rating_id_that_is_not_a_uuid(data_dir: Path, tmp_path: Path) -> None:
    open_store(data_dir).add([checkin(id="paper-17")])
    bundle = load(export_bundle(tmp_path)[0])
    (entry,) = bundle["entry"][1:]
    assert entry["resource"]["identifier"] == {"system": "urn:ratetool:rating", "value": "paper-17"}
    assert (
        entry["request"]["url"] == "QuestionnaireResponse?identifier=urn:ratetool:rating|paper-17"
    )
    uuid.UUID(entry["fullUrl"].removeprefix("urn:uuid:"))
    Bundle.model_validate(bundle)
    assert bundle_problems(bundle) == []


# -- settings ------------------------------------------------------------------------------------


def test_the_config_sets_the_systems(
    seeded: Path, tmp_path: Path, isolated_dirs: dict[str, Path]
) -> None:
    config_dir = isolated_dirs["config"]
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(
        '[fhir]\ninstrument_base = "https://clinic.example/fhir/Questionnaire"\n'
        'client_system = "https://clinic.example/ids/client"\n',
        encoding="utf-8",
    )
    bundle = load(export_bundle(tmp_path)[0])
    q = bundle["entry"][0]["resource"]
    assert q["url"] == "https://clinic.example/fhir/Questionnaire/checkin"
    assert bundle["entry"][0]["request"]["url"] == (
        "Questionnaire?url=https://clinic.example/fhir/Questionnaire/checkin&version=1"
    )
    qr = responses(bundle)[0]
    assert qr["questionnaire"] == "https://clinic.example/fhir/Questionnaire/checkin|1"
    assert qr["subject"]["identifier"]["system"] == "https://clinic.example/ids/client"
    assert bundle_problems(bundle) == []
    # save_config keeps the table when it rewrites the file
    save_config(config_dir, {"practitioner": "CD"})
    assert load_config(config_dir).fhir["client_system"] == "https://clinic.example/ids/client"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"instrument_base": "clinic"}, "[fhir] instrument_base = 'clinic' must be a URI"),
        ({"client_system": "urn:x:a|b"}, "without spaces or '|'"),
        ({"client_system": 3}, "[fhir] client_system = 3 must be a URI"),
        ({"base": "urn:x:"}, "unknown key 'base' in [fhir]"),
    ],
)
def test_bad_fhir_settings_are_named(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"fhir": table}, None)
    assert message in str(caught.value)
    with pytest.raises(ConfigError, match="'fhir' must be a table"):
        parse_config({"fhir": "urn:x"}, None)


# -- reading a bundle back -----------------------------------------------------------------------


def test_round_trip_is_byte_identical(seeded: Path, tmp_path: Path) -> None:
    first, _ = export_bundle(tmp_path, name="first.json")
    other = tmp_path / "other-data"
    result = run("--data-dir", str(other), "import", str(first))
    assert "Imported 7, skipped 0 as duplicates, rejected 0" in result.output
    assert "1 amended" in result.output and "1 entered in error" in result.output
    second = tmp_path / "second.json"
    run("--data-dir", str(other), "export", "--format", "fhir", "--output", str(second))
    assert second.read_bytes() == first.read_bytes()
    again = run("--data-dir", str(other), "import", str(first))
    assert "Imported 0, skipped 7 as duplicates" in again.output
    assert second.read_bytes() == first.read_bytes()


def test_a_searchset_from_a_server_is_read(seeded: Path, tmp_path: Path) -> None:
    bundle = load(export_bundle(tmp_path)[0])
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"https://server/fhir/QuestionnaireResponse/{n}",
            "resource": {**qr, "id": str(n), "meta": {"versionId": "2"}},
            "search": {"mode": "match"},
        }
        for n, qr in enumerate(responses(bundle))
        if qr["subject"]["identifier"]["value"] == "C-014"
    ]
    entries.append(
        {
            "resource": {"resourceType": "Patient", "id": "p1"},
            "search": {"mode": "include"},
        }
    )
    entries.append(
        {
            "resource": {"resourceType": "OperationOutcome", "issue": []},
            "search": {"mode": "outcome"},
        }
    )
    searchset = {"resourceType": "Bundle", "type": "searchset", "total": 4, "entry": entries}
    Bundle.model_validate(searchset)
    path = tmp_path / "search.json"
    path.write_text(json.dumps(searchset), encoding="utf-8")
    other = tmp_path / "other-data"
    result = run("--data-dir", str(other), "import", str(path))
    assert "Imported 4, skipped 0 as duplicates, rejected 0" in result.output
    view = open_store(other).read_all()
    assert sorted(r.status for r in view.ratings) == ["amended", "completed", "completed"]
    assert [r.status for r in view.voided] == ["entered-in-error"]
    assert {r.practitioner for r in view.ratings} == {"AB"}


def entry_of(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": resource}


def good_response(**changes: Any) -> dict[str, Any]:
    qr: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
        "questionnaire": "urn:ratetool:instrument:checkin|1",
        "status": "completed",
        "subject": {"identifier": {"system": "urn:ratetool:client", "value": "C-050"}},
        "authored": "2026-11-03T10:50:00+01:00",
        "item": [{"linkId": i, "answer": [{"valueInteger": 5}]} for i in CHECKIN_ITEMS],
    }
    qr.update(changes)
    return qr


def bad_items(**answer: Any) -> list[dict[str, Any]]:
    items = [{"linkId": i, "answer": [{"valueInteger": 5}]} for i in CHECKIN_ITEMS[1:]]
    return [{"linkId": "empathy", "answer": [answer]}, *items]


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        ({"resourceType": "Patient"}, "entry 2: is a Patient, not a QuestionnaireResponse"),
        (good_response(status="in-progress"), "entry 2: status 'in-progress' is not one"),
        (good_response(item=bad_items(valueInteger=11)), "entry 2: empathy: 11 is outside 0–10"),
        (good_response(item=bad_items(valueString="7")), "must be a valueInteger, not valueString"),
        (good_response(item=bad_items(valueInteger="7")), "valueInteger '7' is not a whole number"),
        (good_response(item=good_response()["item"][1:]), "entry 2: empathy: no answer"),
        (
            good_response(item=[*good_response()["item"], {"linkId": "x", "answer": []}]),
            "entry 2: item 'x' is not an item of checkin",
        ),
        (good_response(subject={"reference": "Patient/1"}), "subject has no identifier"),
        (good_response(subject=None), "entry 2: no subject"),
        (good_response(authored="yesterday"), "entry 2: date 'yesterday'"),
        (good_response(questionnaire="urn:ratetool:instrument:nosuch|1"), "nosuch version 1"),
        (good_response(questionnaire="urn:ratetool:instrument:checkin|9"), "checkin version 9"),
        (good_response(author={"identifier": {"value": 7}}), "author.identifier.value must be"),
    ],
)
def test_a_bad_entry_is_named_and_nothing_is_written(
    data_dir: Path, tmp_path: Path, resource: dict[str, Any], message: str
) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [entry_of(good_response()), entry_of(resource)],
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bundle, indent=2), encoding="utf-8")
    result = run("import", str(path), code=1)
    assert message in result.output, result.output
    assert "entry 1" not in result.output  # the good one is not blamed
    assert not (data_dir / "clients").exists() or not any((data_dir / "clients").iterdir())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{\n  "resourceType": "Bundle",\n  "type": "transaction",\n  "entry": [\n', "line 5"),
        ('{"resourceType": "Patient", "id": "x"}', "is a FHIR Patient, not a Bundle"),
        ('{"resourceType": "Bundle", "type": "history", "entry": []}', "type 'history'"),
        ('{"resourceType": "Bundle", "type": "transaction", "entry": {}}', "entry must be a list"),
    ],
)
def test_a_bad_document_is_refused_whole(
    data_dir: Path, tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    result = run("import", str(path), code=1)
    assert message in result.output and "Nothing was written" in result.output
    assert not data_dir.exists() or not any(data_dir.rglob("*.toml"))


def test_json_lines_are_still_read_as_json_lines(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    run("export", "--output", str(tmp_path / "none.jsonl"), code=1)  # nothing yet
    open_store(data_dir).add([checkin()])
    run("export", "--output", str(path))
    other = tmp_path / "other-data"
    result = run("--data-dir", str(other), "import", str(path))
    assert "Imported 1" in result.output


def test_the_models_do_refuse_a_malformed_resource(seeded: Path, tmp_path: Path) -> None:
    """The R4B validation above is not a formality: a wrong type or an unknown field fails."""
    from pydantic import ValidationError

    bundle = load(export_bundle(tmp_path)[0])
    qr = copy.deepcopy(responses(bundle)[0])
    qr["item"][0]["answer"][0]["valueInteger"] = "seven"
    with pytest.raises(ValidationError):
        QuestionnaireResponse.model_validate(qr)
    q = copy.deepcopy(bundle["entry"][0]["resource"])
    q["item"][0]["minimum"] = 0
    with pytest.raises(ValidationError):
        Questionnaire.model_validate(q)
    broken = copy.deepcopy(bundle)
    broken["entry"][1]["request"]["method"] = 7
    with pytest.raises(ValidationError):
        Bundle.model_validate(broken)
