"""Builds question/answer conversations from the prepared corpus (data/train.txt, data/valid.txt) for the supervised
pass of `glm train --dialogue`. Every answer is corpus text; the questions come from fixed templates. The choice of
template and of the few two-turn conversations is seeded, so the output is the same on every run.
Output: one JSON object per line, {"messages": [{"role": "user", "content": ...}, {"role": "assistant", ...}, ...]}."""
import argparse
import json
import random
import re
from pathlib import Path

SEPARATOR = "\n<|endoftext|>\n"
CJK = re.compile(r"[\u4e00-\u9fff]")
POEM = re.compile(r"^《(?P<title>[^》]+)》\n作者：(?P<author>[^\n]+)\n(?P<body>.+)$", re.DOTALL)
SAYING = re.compile(r"^(?P<body>.+?)\n\s*--\s*(?P<source>.+)$", re.DOTALL)
# The Chinese fortune file also quotes Debian's manuals and reference card; those are not sayings.
TECHNICAL = re.compile(r"Debian|[│┌└─$#/]")
SENTENCE_END = re.compile(r"(?<=[.!?\"])\s+(?=[A-Z\"])")
WORD = re.compile(r"[A-Za-z]{5,}")
MAX_ANSWER_CHARS = 500
TWO_TURN_SHARE = 0.15

FORTUNE_ASKS = [
    "Tell me a fortune.", "Give me a quote.", "Say something wise.", "Tell me something funny.",
    "What is my fortune today?", "Give me some advice.", "Tell me a saying.", "Share a thought with me.",
]
TOPIC_ASKS = ["Tell me something about {w}.", "What do you know about {w}?", "Say something about {w}."]
CONTINUE_ASKS = ["Continue this text: {s}", "What comes next? {s}", "Go on from here: {s}"]
PARAGRAPH_ASKS = ["Write a paragraph about {w}.", "Write a few sentences about {w}."]
POEM_ASKS = ["请写一首诗。", "背一首诗。", "给我念一首古诗。", "Tell me a Chinese poem."]
AUTHOR_POEM_ASKS = ["请背一首{a}的诗。", "{a}写过什么诗？"]
TITLE_POEM_ASKS = ["请背诵《{t}》。", "《{t}》这首诗怎么写？"]
SAYING_ASKS = ["说一句有道理的话。", "给我讲一句名言。", "有什么古语可以分享？"]


def documents(path):
    text = path.read_text(encoding="utf-8")
    return [d.strip("\n") for d in text.split(SEPARATOR) if d.strip().replace("<|endoftext|>", "")]


def turn(user, assistant):
    return [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]


def english_fortune(doc, rng):
    if len(doc) > MAX_ANSWER_CHARS:
        return None
    words = [w for w in WORD.findall(doc) if w.islower()]
    if words and rng.random() < 0.5:
        return turn(rng.choice(TOPIC_ASKS).format(w=rng.choice(words)), doc)
    return turn(rng.choice(FORTUNE_ASKS), doc)


def brown(doc, rng):
    for paragraph in doc.split("\n\n"):
        sentences = SENTENCE_END.split(paragraph)
        if len(sentences) < 3:
            continue
        if rng.random() < 0.5:
            answer = " ".join(sentences[1:4])[:MAX_ANSWER_CHARS]
            yield turn(rng.choice(CONTINUE_ASKS).format(s=sentences[0]), answer)
        else:
            answer = " ".join(sentences[:3])[:MAX_ANSWER_CHARS]
            words = [w for w in WORD.findall(sentences[0]) if w.islower()]
            if words:
                yield turn(rng.choice(PARAGRAPH_ASKS).format(w=rng.choice(words)), answer)


def chinese(doc, rng):
    poem = POEM.match(doc)
    if poem:
        title, author, body = poem["title"], poem["author"], poem["body"]
        kind = rng.random()
        if kind < 0.4:
            return turn(rng.choice(POEM_ASKS), doc)
        if kind < 0.7:
            return turn(rng.choice(AUTHOR_POEM_ASKS).format(a=author), f"《{title}》\n{body}")
        return turn(rng.choice(TITLE_POEM_ASKS).format(t=title), f"《{title}》的作者是{author}。\n{body}")
    saying = SAYING.match(doc)
    if saying and len(doc) <= MAX_ANSWER_CHARS and not TECHNICAL.search(doc):
        return turn(rng.choice(SAYING_ASKS), doc)
    return None


def conversations(docs, rng):
    singles = []
    for doc in docs:
        if CJK.search(doc):
            single = chinese(doc, rng)
            if single:
                singles.append(single)
        elif len(doc) > 3000:
            singles.extend(brown(doc, rng))
        else:
            single = english_fortune(doc, rng)
            if single:
                singles.append(single)
    rng.shuffle(singles)
    result, i = [], 0
    while i < len(singles):
        if i + 1 < len(singles) and rng.random() < TWO_TURN_SHARE:
            result.append(singles[i] + singles[i + 1])
            i += 2
        else:
            result.append(singles[i])
            i += 1
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parent.parent / "data")
    parser.add_argument("--seed", type=int, default=4242)
    args = parser.parse_args()
    for split in ["train", "valid"]:
        rng = random.Random(f"{args.seed}:{split}")
        result = conversations(documents(args.data / f"{split}.txt"), rng)
        with open(args.data / f"dialogue-{split}.jsonl", "w", encoding="utf-8") as out:
            for messages in result:
                out.write(json.dumps({"messages": messages}, ensure_ascii=False) + "\n")
        print(f"{split}: {len(result)} conversations")


if __name__ == "__main__":
    main()
