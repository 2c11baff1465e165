"""Query codes in free text: masked where people read it, dropped where it is written to a ticket."""
from contract.log_masking import mask_text
from contract.query_codes import MASK, mask_every_code, mask_query_codes, without_proof

SAID = "补充一下工单2612010001，查询码361510，内容是晚上十点后灯全灭"


def test_an_announced_code_is_masked_however_it_is_grouped() -> None:
    assert mask_query_codes(SAID) == "补充一下工单2612010001，查询码******，内容是晚上十点后灯全灭"
    assert mask_query_codes("查询码是 3615 10 谢谢") == f"查询码是 {MASK} 谢谢"
    assert mask_query_codes("验证码：3615") == f"验证码：{MASK}"


def test_a_known_code_is_masked_even_when_said_alone_but_not_inside_longer_numbers() -> None:
    assert mask_query_codes("361510", known=["361510"]) == MASK
    assert mask_query_codes("电话13615101234 楼号361510", known=["361510"]) == f"电话13615101234 楼号{MASK}"


def test_what_is_written_to_a_ticket_keeps_the_content_and_drops_the_proof() -> None:
    assert without_proof(SAID, "2612010001") == "补充一下工单，内容是晚上十点后灯全灭"
    assert without_proof("灯还是不亮 361510", "2612010001", known=["361510"]) == "灯还是不亮"
    assert without_proof("三号楼2层东侧的路灯不亮", "2612010001") == "三号楼2层东侧的路灯不亮"


def test_no_log_line_carries_an_announced_code() -> None:
    assert "361510" not in mask_text(f"user said: {SAID}")


def test_codes_written_in_chinese_numerals_full_width_or_after_several_separators_are_caught() -> None:
    assert mask_query_codes("查询码三六一五一零，漏水在三号楼") == f"查询码{MASK}，漏水在三号楼"
    assert mask_query_codes("查询码是：361510") == f"查询码是：{MASK}"
    assert mask_query_codes("查询号码就是 3615 10") == f"查询号码就是 {MASK}"
    assert mask_query_codes("三六一五一零", known=["361510"]) == MASK
    assert mask_query_codes("３６１５１０", known=["361510"]) == MASK
    assert without_proof("补充一下工单2612010001，查询码三六一五一零，漏水在三号楼", "2612010001") == "补充一下工单，漏水在三号楼"


def test_a_text_with_no_proof_in_it_keeps_its_layout() -> None:
    assert without_proof("三号楼2层\n\n东侧路灯，，不亮", "2612010001") == "三号楼2层\n\n东侧路灯，，不亮"
    assert without_proof("一楼二楼三楼四楼都停电了") == "一楼二楼三楼四楼都停电了"


def test_codes_are_caught_however_they_are_announced() -> None:
    for said in ["查询码 612770 服务很好", "查询码\n\n612770 服务很好", "612770是我的查询码 服务很好",
                 "码：612770，服务很好", "查询码应该是“612770”服务很好", "查詢碼612770 服务很好",
                 "查 询 码 6127 70 服务很好", "查询码：六一二七七零 服务很好"]:
        assert "服务很好" in without_proof(said) and "612770" not in mask_query_codes(said), said
        assert not any(d in without_proof(said) for d in "612770六一二七零"), said


def test_every_code_of_several_is_caught() -> None:
    said = "两件的查询码分别是362562和612770，请一起处理"
    assert mask_query_codes(said) == f"两件的查询码分别是{MASK}和{MASK}，请一起处理"
    assert "362562" not in without_proof(said) and "612770" not in without_proof(said)


def test_other_numbers_in_a_report_are_kept() -> None:
    for said in ["号码是 029-8888 1234 请回电", "电话13900001111，地址25号楼2501室，罚款5000元，2026年12月1日",
                 "工单2612010002也一样", "二维码 12345678 扫不出来", "查询码丢了，楼号2501"]:
        assert without_proof(said, "2612010001") == said and mask_query_codes(said) == said


def test_a_rating_comment_loses_bare_code_like_numbers_but_keeps_counts_and_dates() -> None:
    assert without_proof("路灯修好了 217593", bare_numbers=True) == "路灯修好了"
    kept = "等了15天，2026年12月1日才修好，花了5000元"
    assert without_proof(kept, bare_numbers=True) == kept


def test_a_rating_comment_loses_the_ticket_number_even_when_the_score_follows_without_a_pause() -> None:
    for said in ["2611270001五分", "二六一一二七零零零一五分", "两六一一两七零零零一 五分", "工单二六一一 二七零零 零一五颗星"]:
        assert "2611270001" not in without_proof(said, "2611270001", bare_numbers=True)
        assert "零零零一" not in without_proof(said, "2611270001", bare_numbers=True)
    assert without_proof("2611270001五分", "2611270001", bare_numbers=True) == "五分"
    # a longer number is another number, and a report's ticket number before a count stays
    assert without_proof("261127000155", "2611270001", bare_numbers=True) == "261127000155"
    assert without_proof("工单2611270001五个人处理", "2611270001") == "工单2611270001五个人处理"


def test_a_code_spelled_out_with_spaced_dashes_is_dropped_too() -> None:
    assert without_proof("门卫说我的码 5 0 8 - 3 6 7，三号门", "2612020002", ["508367"]) == "门卫说我的码，三号门"


def test_ranges_in_a_rating_comment_are_no_codes() -> None:
    for kept in ["时间 9:00 - 11:00 都没人", "前后 30 - 40 分钟", "收费从 100 - 200 涨到了 300", "价格 1.5 - 2.0 元",
                 "第 1 - 2 - 3 - 4 项都没办"]:
        assert without_proof(kept, bare_numbers=True) == kept


def test_the_groups_of_a_ticket_number_read_out_are_no_code() -> None:
    assert mask_query_codes("工单编号是 2612 0200 01，查询码 361510，请记好。") == "工单编号是 2612 0200 01，查询码 ******，请记好。"
    assert mask_query_codes("361510是查询码") == "******是查询码"


def test_an_answer_to_the_code_question_keeps_numbers_and_masks_the_code_whichever_comes_first() -> None:
    assert mask_every_code("2612 0200 01") == "2612 0200 01"  # a ticket number read in groups
    assert mask_every_code("2612020001 361510") == "2612020001 ******"
    assert mask_every_code("3615 10 2612 0200 01") == "****** 2612 0200 01"
    assert mask_every_code("2612 0200 01 3615 10") == "2612 0200 01 ******"
    assert mask_every_code("打错了 三六一五一零") == "打错了 ******"
    assert mask_every_code("12345678901234567890") == "******"  # no reading of it hides a code: all of it
    assert mask_every_code("第3项") == "第3项"


def test_a_code_beside_a_number_never_shows_a_digit_however_either_is_grouped() -> None:
    numbers = {"2612020001": ["2612020001", "2612 0200 01"], "13912345678": ["13912345678", "139 1234 5678"],
               "02988886666": ["029-88886666", "02988886666"]}
    numbers["2612020001"] += ["2612-0200-01", "261202 0001"]
    numbers["13912345678"] += ["139-12345678", "1391 2345 678"]
    numbers["02988886666"] += ["029 8888 6666", "0298 888 6666"]
    codes = {code: [code, f"{code[:4]} {code[4:]}", f"{code[:3]}-{code[3:]}", f"{code[:2]} {code[2:]}",
                    " ".join(code[i:i + 2] for i in range(0, len(code), 2))]
             for code in ("3615", "36151", "361510", "3615107", "36151072")}
    for number, number_forms in numbers.items():
        for code, code_forms in codes.items():
            for said_number in number_forms:
                for said_code in code_forms:
                    for gap in (" ", "  ", "-"):
                        for said in (said_number + gap + said_code, said_code + gap + said_number):
                            shown = "".join(ch for ch in mask_every_code(said) if ch.isdigit())
                            assert shown in (number, ""), (said, mask_every_code(said))


def test_two_numbers_that_could_be_a_code_and_more_are_masked_whole() -> None:
    for said in ("361510 361510", "361510 2501", "2612 361510", "三六一五一零 2501", "361510  2501"):
        assert not any(ch.isdigit() for ch in mask_every_code(said)), said
    assert mask_every_code("2612 0200 01 3615 101") == "2612 0200 01 ******"
    assert mask_every_code("2612020001 2612020002") == "2612020001 2612020002"  # two ticket numbers
    assert mask_every_code("361510 139 0000 1111") == "****** 139 0000 1111"


def test_a_code_is_masked_whatever_groups_its_digits_in_an_answer() -> None:
    for said in ("361　510", "三六一　五一零", "361\xa0510", "361，510", "36，15，10", "36、15、10", "361．510", "361。510",
                 "36–15–10", "361～510", "361/510", "361_510", "361\n510", "3615 - 10", "3   6   1   5   1   0"):
        assert not any(ch.isdigit() or ch in "一三五六零" for ch in mask_every_code(said)), said


def test_a_code_in_financial_or_traditional_numerals_is_a_code() -> None:
    for said in ("叁陆壹伍壹零", "一○○一○○", "三六一五兩零"):
        assert mask_every_code(said) == MASK, said


def test_one_unbroken_number_is_shown_only_as_a_ticket_mobile_or_landline() -> None:
    for hidden in ("361510361510", "3615102501", "029361510"):
        assert mask_every_code(hidden) == MASK, hidden
    for shown in ("2612020001", "13912345678", "02988886666", "09173212345"):
        assert mask_every_code(shown) == shown, shown


def test_a_known_code_is_dropped_from_a_comment_however_loosely_it_was_grouped() -> None:
    for said in ("码 3615 - 10 还是不亮", "查询码361，510 还是不亮", "查询码3615\n10 还是不亮"):
        assert "10" not in without_proof(said, "2612010005", ["361510"], bare_numbers=True), said
    assert mask_query_codes("我的码 3615 - 10", ["361510"]) == "我的码 ******"


def test_a_ticket_or_phone_and_a_code_split_by_a_comma_are_told_apart() -> None:
    assert mask_every_code("2612020001，361510") == "2612020001，******"
    assert mask_every_code("361510。13912345678") == "******。13912345678"
    assert mask_every_code("2612020001，3615，10") == "2612020001，******"
    assert mask_every_code("3615，1072") == "******"


def test_a_number_is_read_in_groups_split_by_spaces_or_dashes_only() -> None:
    for said in ("3211、二捌两７—捌伍", "7104\n3053·66", "361‐510", "361‑510", "361―510", "361−510", "361﹣510",
                 "361：510", "361:510", "361；510"):
        assert mask_every_code(said) == MASK, said
