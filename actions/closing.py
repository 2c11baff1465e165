"""A no said outside any question ("deny" with nothing to confirm).

After "还有别的需要帮忙的吗？" a plain no ("不用了", "没有了，谢谢") ends the conversation. But a no
followed by what the caller wants means the bot got them wrong, and saying goodbye then hangs up on
them: "不是，我是要反映问题" and "刚才不是说了吗，路灯坏了" start the filing (with the problem, when
they name one); any other no with words after it is asked about.
"""
from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.categories import names_a_problem
from actions.conversation import latest_text
from actions.dialogue import asks_to_report
from actions.spoken import clean

# A report said not to be wanted: "没问题了", "我不投诉了", "没有要登记的".
_NO_REPORT = re.compile(r"(没|没有)(什么|别的|其他|其它)?(问题|事|事情)了?|不(投诉|举报|登记|反映|报|提交|办)了?|"
                        r"没有?要(登记|反映|报|投诉)的?")
# A caller who is done: the problem is solved, they are leaving, or they are content.
# (Not "不满意" or "不是很好": an unhappy caller is not seen off.)
_DONE = re.compile(r"(?<![没不])(解决|修好|处理好|办好|弄好|搞定)了|(已经)?好了|挂了|先这样|就这样|就这些|知道了|"
                   r"明白了|没事了|效率(挺|很|真)?高|(?<![不是])(挺好|很好)|辛苦")
# The no itself, and the courtesies around it: what is left is what the caller wants instead.
_NO_WORDS = re.compile(r"(不是|不对|不用|不要|不需要|没有|没了|没|不|算了|谢谢|谢了|多谢|感谢|再见|拜拜|好的|"
                       r"你们|您|你|的|帮助|帮忙|辛苦|了|啊|呀|吧|呢|哈|嗯|[，,。.!！?？\s])")
_MEANINGFUL = 3  # characters left after the no that say something


class NoMoreNeeds(Action):
    def name(self) -> str:
        return "action_no_more_needs"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        said = _NO_REPORT.sub("，", clean(latest_text(tracker)))
        if _DONE.search(said):
            dispatcher.utter_message(response="utter_goodbye")  # "不用了，路灯已经修好了": done, not a report
            return []
        if names_a_problem(said, runtime.settings().categories_file) or asks_to_report(said):
            return [FollowupAction("ticket_form")]
        if len(_NO_WORDS.sub("", said)) >= _MEANINGFUL:
            dispatcher.utter_message(response="utter_how_can_i_help")
            return []
        dispatcher.utter_message(response="utter_goodbye")
        return []
