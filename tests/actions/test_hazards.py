"""Safety advice only for danger now: wrong advice ("close the gas valve" for a sewer) is worse than none."""
from __future__ import annotations

import pytest

from actions.hazards import hazards_in


@pytest.mark.parametrize("said, kinds", [
    ("着火了 我们隔壁仓库着火了 烟好大 怎么办", ["fire"]),
    ("车间里冒浓烟了", ["fire"]),
    ("我们公司的燃气管道好像有点漏气 闻着有味道", ["gas"]),
    ("闻到煤气味", ["gas"]),
    ("变压器冒烟了", ["electric"]),
    ("电线被挂断了 垂在路上", ["electric"]),
    ("电梯困人", ["injury"]),
    ("师傅从脚手架上摔下来了", ["injury"]),
    ("有人中毒了", ["injury"]),
    ("工地着火了 以前也着过好几次了", ["fire"]),  # the past in another clause does not undo the fire now
    ("周边企业火灾隐患很多 今天又着火了", ["fire"]),
    ("我们仓库里化学品泄漏了味道很刺鼻有人头晕", ["chemical"]),
    ("锦业路和丈八一路十字那里路面塌了一个大坑车都掉进去了", ["collapse"]),
    ("路口井盖丢了", ["collapse"]),
    ("燃气泄漏了 有刺鼻的气味", ["gas"]),  # the gas advice (no switches, close the valve), whatever else it smells of
])
def test_danger_now_is_recognised(said: str, kinds: list) -> None:
    assert hazards_in(said) == kinds


@pytest.mark.parametrize("said", [
    "我们园区下水道气味很重", "空调漏气", "轮胎漏气", "隔壁工厂烟囱一直冒烟 扰民", "烧烤摊冒烟", "工厂排放浓烟",
    "电费炸了", "订单爆炸", "火灾报警器误报", "我们想申请火灾险理赔", "我们单位的车被砸了", "消防通道被堵了",
    "想问一下仓库有没有火灾隐患", "上次着火的事还没处理完", "我们公司楼下的井盖坏了 有点响",
    "楼下餐馆油烟很大 刺鼻的味道", "农药喷洒 味道很大", "化工厂排放的废气有刺鼻气味", "你们这流程我人都晕了",
    "这个围墙有坍塌的风险", "工地基坑可能坍塌",
])
def test_no_danger_now_gets_no_advice(said: str) -> None:
    assert hazards_in(said) == []


def test_a_small_pothole_is_no_collapse_and_someone_hurt_makes_it_a_safety_matter() -> None:
    from actions.hazards import hazard_category

    assert hazards_in("门口道路塌了一个小坑，车过去颠得很") == []
    assert hazard_category("车间里有工人触电了，人倒在地上") == "安全消防"
    assert hazard_category("我们公司的燃气管道好像有点漏气") == "供水供电供气"
