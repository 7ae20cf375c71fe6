namespace GlmSharp.Tests.Tokenizers;

/// <summary>Texts that exercise every branch of the GLM pre-tokenizer and multi-byte UTF-8.</summary>
internal static class TokenizerCorpus
{
    public static readonly string[] Training =
    [
        .. Enumerable.Range(0, 200).Select(i =>
            $"Record {i}: the value is {i * 37 % 1000} and the square is {i * i}; 第{i}条记录的值是{i * 7}。 item_{i} = \"{(char)('a' + i % 26)}{i % 7}\"\n"),
        "The quick brown fox jumps over the lazy dog. It's a dog's life, isn't it? We'll see, they'd say, you're right, I'm sure, they've gone.",
        "In 2024 the population was 1234567 people; pi is 3.14159265 and 1/3 ≈ 0.333.",
        "人工智能是计算机科学的一个分支。我们今天讨论大语言模型的分词器，以及它如何处理中文文本。",
        "def tokenize(text: str) -> list[int]:\n    return [ord(c) for c in text if c.isalpha()]\n\nfor i in range(10):\n    print(i ** 2)\n",
        "public static int Add(int a, int b) { return a + b; } // C# code\r\n#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); }",
        "Emoji time: 😀 😃 😄 🚀 🇩🇪 👩‍💻 ❤️ and more 🎉🎉🎉!",
        "Whitespace    runs\t\ttabs\n\n\nnewlines   \n  trailing   ",
        "Ünïcödé çhàrâctérs: naïve café résumé Straße Ελληνικά Русский язык العربية हिन्दी 日本語のテキスト 한국어 텍스트",
        "Mixed: GLM-4.5 uses [gMASK]<sop> and <|user|> turns; HTTP/2 200 OK; e-mail: someone@example.com; URL https://example.org/a?b=c&d=e",
        "Numbers 0 00 000 0000 12345 9876543210 ١٢٣ ½ ² Ⅻ",
    ];

    public static readonly string[] Evaluation =
    [
        "Hello world! How's it going? I'LL BE THERE, YOU'RE LATE, WE'VE WON, HE'D KNOW, SHE'S 'quoted' text.",
        "Digits: 1 12 123 1234 12345 123456 1234567 3.14159 2025-11-29 10:30:00 +1-555-0100",
        "大语言模型（LLM）能够理解和生成自然语言。北京欢迎你！「引号」和《书名号》，还有全角空格　这里。",
        "fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!(\"{:?}\", v);\n}\n",
        "  leading spaces, double  spaces, triple   spaces, tab\tand\tnewline\n, crlf\r\n, lone cr\r end",
        "🚀🚀 rockets, 👨‍👩‍👧‍👦 family, 🏳️‍🌈 flag, skin 👍🏽, keycap 1️⃣, math 𝔸𝔹ℂ, ancient 𓀀",
        "Control chars: \u0001\u0002\u0007 bell, \u001b[31mred\u001b[0m, nul-free, DEL \u007f, NBSP\u00a0here, ZWSP\u200bthere, BOM\ufeff.",
        "Special tokens inline: [gMASK]<sop><|system|>\nYou are helpful.<|user|>\nHi<|assistant|>\n<think>hmm</think>Hello!<|endoftext|>",
        "Punctuation!!! ??? ... --- *** ### @@@ $$$ %%% ^^^ &&& ((( ))) [[[ ]]] {{{ }}} <<< >>> ||| \\\\ /// ~~~ ```",
        "\n\n\n   \n\t\n \u3000 \u2003 trailing whitespace only at end   ",
        "Mixed scripts: abc中文def123ghi😀jkl мир123 ελληνικά!!! naïve-café's",
        "'s 't 're 've 'm 'll 'd 'S 'T 'RE 'VE 'M 'LL 'D 'x ''s '",
        "",
        " ",
        "a",
        "x\u0301y combining acute, e\u0308 diaeresis, Hangul jamo \u1100\u1161\u11a8",
    ];
}
