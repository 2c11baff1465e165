"""Typed text is cleaned the same way in every process: nothing unstorable, nothing that disguises itself."""
from contract.text_input import clean_text, has_unstorable, in_simplified, without_hidden_formatting, without_markup

RLO, PDF, LRI, PDI = "\u202e", "\u202c", "\u2066", "\u2069"


def test_bidi_overrides_and_isolates_cannot_reorder_what_an_operator_reads() -> None:
    assert clean_text(f"我的电话是{RLO}8765 4321 831{PDF}") == "我的电话是8765 4321 831"
    assert clean_text(f"{LRI}撤销{PDI}工单\u200f") == "撤销工单"


def test_zero_width_characters_and_a_stray_bom_are_dropped_but_emoji_joiners_stay() -> None:
    assert clean_text("\ufeff停\u200b水\u2060了") == "停水了"
    family = "👨\u200d👩\u200d👧"
    assert clean_text(family) == family


def test_every_kind_of_line_break_becomes_a_newline_and_tabs_stay() -> None:
    assert clean_text("一\r\n二\r三\u2028四\u2029五\x85六\t七") == "一\n二\n三\n四\n五\n六\t七"


def test_c0_and_c1_controls_and_lone_surrogates_are_dropped() -> None:
    assert clean_text("停\x00水\x1b[31m\x9b了\ud800") == "停水[31m了"


def test_an_api_refuses_what_it_cannot_store_but_only_strips_what_hides() -> None:
    assert has_unstorable("a\x00b") and has_unstorable("\udfff") and has_unstorable("\x9b")
    assert not has_unstorable(f"路灯{RLO}坏了\n\t")
    assert without_hidden_formatting(f"路灯{RLO}坏了\u200b") == "路灯坏了"


def test_markup_and_written_out_escapes_are_no_words_for_the_bot() -> None:
    for probe in ["\\u0000", "\\x00\\x1b", "%00", "%0d%0a", "<script>alert(1)</script>", "<script>alert(1)",
                  "{{7*7}}", "${jndi:ldap://x}", "#{7*7}", "{% debug %}", "<!-- x -->", "<svg/onload=alert(1)>"]:
        assert without_markup(probe) == "", probe
    assert without_markup("<b>西安</b>科技有限公司") == "西安科技有限公司"
    assert without_markup('<img src=x onerror="alert(1)">路灯坏了') == "路灯坏了"


def test_what_only_looks_like_markup_in_a_report_stays() -> None:
    for said in ["涨了30%12月份才恢复", "路灯<不亮>了", "a<b 并且 c>d", "3<5", "C:\\new", "50% 的路灯不亮", "电话{029}8888"]:
        assert without_markup(said) == said, said


def test_traditional_chinese_is_read_as_simplified_and_simplified_is_left_alone() -> None:
    assert in_simplified("我們公司門口的路燈壞了，請儘快處理") == "我们公司门口的路灯坏了，请尽快处理"
    assert in_simplified("請問查詢碼是多少？工單2611270001") == "请问查询码是多少？工单2611270001"
    assert in_simplified("乾淨的頭髮") == "干净的头发"  # by phrase, not character by character
    for simplified in ["著名企业的皇后大道店", "高新区供电局 13891234567", "路灯坏了 ABC-12 ５号楼", "", "👨\u200d👩\u200d👧"]:
        assert in_simplified(simplified) == simplified, simplified


def test_simplified_words_that_the_traditional_tables_would_rewrite_are_left_alone() -> None:
    # t2s alone turned 坏 into 坯 in these, the surname 沈 into 沉, 乾县 into 干县 and 於 into 于.
    for simplified in ["空调打坏了", "门被拉坏了", "一坏就是三天", "杯子捏坏了", "沈默经理", "联系人沈思远", "乾县分公司",
                       "於明的公司", "醣类检测", "以後再说", "吒"]:
        assert in_simplified(simplified) == simplified, simplified


def test_a_traditional_text_is_converted_whole_even_where_a_character_is_also_simplified() -> None:
    assert in_simplified("以後再說，電梯壞了") == "以后再说，电梯坏了"
    assert in_simplified("關於路燈的問題") == "关于路灯的问题"


def test_simplified_characters_among_traditional_ones_and_names_outside_gb2312_stay() -> None:
    assert in_simplified("打坏了 我們") == "打坏了 我们"
    for name in ["王昇反映路灯坏了", "张璿"]:
        assert in_simplified(name) == name, name
    assert in_simplified("王昇 我們的路燈") == "王昇 我们的路灯"


def test_a_lone_surrogate_is_no_crash() -> None:
    assert in_simplified("\ud800我們") == "\ud800我們"


def test_a_traditional_text_keeps_its_phrases() -> None:
    assert in_simplified("我反覆打電話") == "我反复打电话"
    assert in_simplified("工地淩晨施工") == "工地凌晨施工"
    assert in_simplified("沈默的傢俱廠") == "沉默的家具厂"
