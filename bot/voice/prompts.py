"""The fixed things the voice bot says on its own (not Rasa's replies), and their audio cache.

They are synthesized once by `python -m bot prompts build` (a `make setup` step) for both line
rates, so a call never waits for speech synthesis to greet, reprompt or say goodbye.
"""
from __future__ import annotations

from bot.voice.tts import CachedTts

PROMPTS: dict[str, str] = {
    "greeting": "您好，这里是西安高新区96767企业服务热线，请问有什么可以帮您？",
    "reprompt": "您好，请问您还在吗？请直接说出您要办理的事情。",
    "goodbye_silence": "很久没有听到您的声音，本次通话先结束了。如需帮助，欢迎再次拨打96767，再见。",
    "goodbye_max_length": "本次通话时间较长，我们先结束通话。如需继续办理，请再次拨打96767，再见。",
    "bot_unavailable": "抱歉，系统暂时无法应答，请您稍后再拨，或者说“转人工”。",
    "transfer": "正在为您转接人工客服，请稍候。",
    "operator_joined": "人工客服已接入，请讲。",
    "goodbye_closed": "本次服务已结束，感谢您致电96767企业服务热线，再见。",
    "busy": "您好，当前来电较多，线路繁忙，请您稍后再拨96767，感谢您的耐心。",
}

# Rates the prompts are cached at: a headset / WAV call, and a telephone line.
PROMPT_RATES = (16000, 8000)


def build_prompt_cache(tts: CachedTts) -> int:
    """Synthesize every prompt at every line rate into the disk cache; returns the count."""
    count = 0
    for text in PROMPTS.values():
        for rate in PROMPT_RATES:
            tts.synthesize(text, rate, persist=True)
            count += 1
    return count
