"""Validation errors read the same in every service: a stable code and a Chinese message per field."""
from contract.validation_errors import translate_validation_errors


def test_pydantic_errors_become_one_chinese_complaint_per_field() -> None:
    errors = [{"loc": ("body", "text"), "type": "value_error.any_str.max_length", "msg": "ensure this value has at most 2000 characters",
               "ctx": {"limit_value": 2000}},
              {"loc": ("body", "text"), "type": "value_error.any_str.max_length", "msg": "again", "ctx": {"limit_value": 2000}},
              {"loc": ("body", "score"), "type": "value_error.missing", "msg": "field required"},
              {"loc": ("body",), "type": "something.new", "msg": "English"}]
    assert translate_validation_errors(errors) == [
        {"field": "text", "code": "text_too_long", "message": "内容过长，最多 2000 个字"},
        {"field": "score", "code": "field_required", "message": "此项为必填项"},
        {"field": "body", "code": "value_invalid", "message": "填写的内容不正确"},
    ]


def test_a_service_words_its_own_fields_better() -> None:
    errors = [{"loc": ("body", "score"), "type": "value_error.number.not_le", "ctx": {"limit_value": 5}}]
    own = {("score", "out_of_range"): ("score_invalid", "评价分数应为 1 到 5 分")}
    assert translate_validation_errors(errors, by_field=own) == [
        {"field": "score", "code": "score_invalid", "message": "评价分数应为 1 到 5 分"}]
