"""Request validation errors as people read them: pydantic's (English) error types turned into a
stable code and a Chinese message per field, the same in every service that validates requests (the
issue API's `fields`, the gateway's `errors`). Each service may word its own fields better.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional

# pydantic v1 error types -> (stable code, Chinese message). {limit_value} etc. come from the error ctx.
GENERIC: Mapping[str, tuple] = {
    "value_error.missing": ("field_required", "此项为必填项"),
    "type_error.none.not_allowed": ("field_required", "此项为必填项"),
    "type_error.str": ("type_invalid", "应填写文字"),
    "type_error.integer": ("type_invalid", "应填写整数"),
    "value_error.integer": ("type_invalid", "应填写整数"),
    "type_error.dict": ("body_invalid", "请求内容应为 JSON 对象"),
    "json_invalid": ("json_invalid", "请求内容不是有效的 JSON"),
    "value_error.any_str.min_length": ("text_blank", "内容不能为空"),
    "value_error.any_str.max_length": ("text_too_long", "内容过长，最多 {limit_value} 个字"),
    "value_error.number.not_ge": ("out_of_range", "数值不能小于 {limit_value}"),
    "value_error.number.not_le": ("out_of_range", "数值不能大于 {limit_value}"),
    "value_error.number.not_gt": ("out_of_range", "数值应大于 {limit_value}"),
    "value_error.number.not_lt": ("out_of_range", "数值应小于 {limit_value}"),
    "type_error.enum": ("choice_invalid", "不是允许的取值"),
    "value_error.phone_invalid": ("phone_invalid", "请填写正确的手机号或固定电话"),
    "value_error.text_invalid_chars": ("text_invalid_chars", "内容包含无法识别的字符"),
    "value_error.ticket_id_invalid": ("ticket_id_invalid", "工单编号应为 8 到 12 位数字"),
    "value_error.str.regex": ("format_invalid", "格式不正确"),
    "type_error.bool": ("type_invalid", "应填写 true 或 false"),
    "value_error.date_invalid": ("date_invalid", "请填写有效的日期，格式为 YYYY-MM-DD"),
    "value_error.reason_required": ("reason_required", "驳回申请时请填写理由"),
}


def _field_name(loc: Iterable[Any]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def translate_validation_errors(errors: Iterable[Mapping[str, Any]], path: str = "",
                                by_field: Optional[Mapping[tuple, tuple]] = None,
                                by_path_field: Optional[Mapping[tuple, tuple]] = None) -> List[Dict[str, str]]:
    """One {"field", "code", "message"} per field and complaint. `by_field` ((field, code) -> (code,
    message)) and `by_path_field` ((path, field, code) -> ...) are a service's own wording."""
    by_field, by_path_field = by_field or {}, by_path_field or {}
    fields: List[Dict[str, str]] = []
    seen = set()
    for err in errors:
        kind = str(err.get("type"))
        field = "body" if kind == "json_invalid" else _field_name(err.get("loc", ()))
        code, template = GENERIC.get(kind, ("value_invalid", "填写的内容不正确"))
        leaf = field.rsplit(".", 1)[-1]
        code, template = by_path_field.get((path, leaf, code)) or by_field.get((leaf, code), (code, template))
        ctx = err.get("ctx") or {}
        try:
            message = template.format(**ctx)
        except (KeyError, IndexError, ValueError):
            message = template
        if (field, code) not in seen:  # one field, one complaint
            seen.add((field, code))
            fields.append({"field": field, "code": code, "message": message})
    return fields
