"""Turns the raw corpus packages into plain text: one document per block, blocks separated by a line
holding only the GLM end-of-text token, so the tokenizer maps every boundary to <|endoftext|>."""
import argparse
import hashlib
import json
import re
from pathlib import Path

SEPARATOR = "<|endoftext|>"
VALID_MODULUS = 20
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
ENGLISH_FORTUNE_SKIP = {"art", "ascii-art", "chinese", "song100", "tang300"}
CHINESE_FORTUNES = ["tang300", "song100", "chinese"]


def brown_words(line):
    # Tokens are word/TAG; a word may itself contain '/', so split on the last one.
    return [token.rsplit("/", 1)[0] for token in line.split() if "/" in token]


def detokenize(words):
    text = " ".join(words)
    text = text.replace("``", '"').replace("''", '"')
    text = re.sub(r" ([,.;:?!%)])", r"\1", text)
    text = re.sub(r"([($]) ", r"\1", text)
    text = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", text)
    text = re.sub(r'" (.*?) "', r'"\1"', text)
    # Abbreviations ending a sentence keep the sentence's own period token as well ("Jr. ." -> "Jr..").
    text = re.sub(r"(?<!\.)\.\.(?!\.)", ".", text)
    return text


def brown_documents(folder):
    for path in sorted(folder.glob("c[a-r][0-9][0-9]")):
        paragraphs = []
        for block in re.split(r"\n\s*\n", path.read_text(encoding="latin-1")):
            sentences = [detokenize(brown_words(line)) for line in block.splitlines() if line.strip()]
            if sentences:
                paragraphs.append(" ".join(sentences))
        if paragraphs:
            yield f"brown:{path.name}", "\n\n".join(paragraphs)


def fortune_entries(path):
    text = CONTROL_CHARS.sub("", ANSI_ESCAPE.sub("", path.read_text(encoding="utf-8", errors="replace")))
    for index, entry in enumerate(re.split(r"^%$", text, flags=re.MULTILINE)):
        entry = entry.strip("\n")
        if entry.strip():
            yield f"fortunes:{path.name}:{index}", entry


def english_fortunes(folder):
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.is_symlink() and path.suffix == "" and path.name not in ENGLISH_FORTUNE_SKIP:
            yield from fortune_entries(path)


def chinese_fortunes(folder):
    for name in CHINESE_FORTUNES:
        yield from fortune_entries(folder / name)


def goes_to_validation(key):
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16) % VALID_MODULUS == 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--brown", type=Path, required=True)
    parser.add_argument("--fortunes", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    sources = {
        "brown": brown_documents(args.brown),
        "fortunes": english_fortunes(args.fortunes),
        "fortunes-zh": chinese_fortunes(args.fortunes),
    }
    splits = {"train": [], "valid": []}
    manifest = {"separator": SEPARATOR, "valid_rule": f"sha1(key) % {VALID_MODULUS} == 0", "sources": {}}
    for source, documents in sources.items():
        counts = {"train": [0, 0], "valid": [0, 0]}
        for key, text in documents:
            split = "valid" if goes_to_validation(key) else "train"
            splits[split].append(text)
            counts[split][0] += 1
            counts[split][1] += len(text)
        manifest["sources"][source] = {s: {"documents": c[0], "chars": c[1]} for s, c in counts.items()}

    for split, documents in splits.items():
        body = f"\n{SEPARATOR}\n".join(documents) + f"\n{SEPARATOR}\n"
        (args.out / f"{split}.txt").write_text(body, encoding="utf-8")
        manifest[split] = {"documents": len(documents), "bytes": len(body.encode("utf-8"))}
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main()
