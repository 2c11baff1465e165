"""The issue API's reasons, said inside the bot's replies: Chinese punctuation, one full stop, and
nothing at all when a reason is not Chinese (a proxy's page)."""
from actions.replies import api_reason


def test_api_reasons_read_as_chinese_sentences():
    assert api_reason("工单已办结,不能撤销;如对结果不满意,可以进行评价") == "工单已办结，不能撤销；如对结果不满意，可以进行评价。"
    assert api_reason("查询码错误次数较多，请30 秒后再试") == "查询码错误次数较多，请30秒后再试。"
    assert api_reason("工单办结后才能评价。") == "工单办结后才能评价。"


def test_a_reason_that_is_not_chinese_is_not_said():
    assert api_reason("Not Found") == ""
    assert api_reason("") == ""
