"""The exception hierarchy carries field, value and what is accepted."""

from mrdtrack.errors import (
    ImportValidationError,
    InputError,
    MrdtrackError,
    NotFoundError,
    ProtocolError,
)


def test_input_error_message_names_field_value_and_range() -> None:
    error = InputError("weight_kg", 0, "a number > 0", "weigh the patient again")
    assert str(error) == "weight_kg: got 0; expected a number > 0. Weigh the patient again"
    assert isinstance(error, MrdtrackError)


def test_missing_value_is_said_so() -> None:
    assert "got missing" in str(InputError("height_cm", None, "a number"))


def test_import_error_names_the_location() -> None:
    error = ImportValidationError("ct", "x", "a number", location="run.csv row 7")
    assert str(error).startswith("run.csv row 7: ct: got 'x'")
    assert isinstance(error, InputError)


def test_other_errors() -> None:
    assert "known: a, b" in str(NotFoundError("protocol", "c", ("a", "b")))
    assert str(ProtocolError("tpog.yaml", "rules[0].op", "one of >=, >")) == (
        "tpog.yaml: rules[0].op: expected one of >=, >"
    )
