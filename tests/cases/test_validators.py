import pytest
from django.core.exceptions import ValidationError

from cases.factories import EntityFactory
from cases.validators import CHARSET, credit_code_is_valid, validate_credit_code

VALID = ["91130200699229617X", "911302307808371268"]


@pytest.mark.parametrize("code", VALID)
def test_valid_examples_pass(code):
    assert credit_code_is_valid(code)
    validate_credit_code(code)


@pytest.mark.parametrize("position", range(18))
@pytest.mark.parametrize("code", VALID)
def test_every_single_character_corruption_fails(code, position):
    # given every other character of the charset at this position
    corrupted = [
        code[:position] + ch + code[position + 1 :] for ch in CHARSET if ch != code[position]
    ]
    # then none of them passes the check digit
    assert len(corrupted) == 30
    assert not [c for c in corrupted if credit_code_is_valid(c)]


@pytest.mark.parametrize(
    "code",
    ["", "91130200699229617", "91130200699229617X0", "9113020069922961IX", "91130200699229617x"],
)
def test_malformed_codes_fail(code):
    assert not credit_code_is_valid(code)


def test_validator_message_names_the_value():
    with pytest.raises(ValidationError, match="91130200699229617Y"):
        validate_credit_code("91130200699229617Y")


def test_entity_credit_code_is_validated_and_unique_when_set(db):
    # given an entity with a valid code
    EntityFactory(credit_code=VALID[0])
    # then a second entity with the same code fails validation
    with pytest.raises(ValidationError, match="credit_code"):
        EntityFactory.build(credit_code=VALID[0]).full_clean()
    # and a bad code fails, while several entities may have no code
    with pytest.raises(ValidationError):
        EntityFactory.build(credit_code="91130200699229617Y").full_clean()
    EntityFactory(credit_code="")
    EntityFactory(credit_code="")
