namespace GlmSharp.Tokenizers.Chat;

/// <summary>Jinja chat templates GlmSharp writes into the tokenizer_config.json of vocabularies it trains, so other
/// runtimes (transformers, llama.cpp) render prompts exactly as <see cref="Glm45ChatTemplate"/> does.</summary>
public static class GlmJinjaTemplates
{
    /// <summary>GLM-4.5 format without tool definitions; honours <c>enable_thinking</c> and <c>reasoning_content</c>.</summary>
    public const string Glm45 =
        """
        {{- '[gMASK]<sop>' -}}
        {%- set ns = namespace(last_user=-1) -%}
        {%- for m in messages -%}{%- if m.role == 'user' -%}{%- set ns.last_user = loop.index0 -%}{%- endif -%}{%- endfor -%}
        {%- for m in messages -%}
        {%- if m.role == 'system' -%}{{- '<|system|>\n' + m.content -}}
        {%- elif m.role == 'user' -%}{{- '<|user|>\n' + m.content -}}
        {%- if enable_thinking is defined and not enable_thinking and not m.content.endswith('/nothink') -%}{{- '/nothink' -}}{%- endif -%}
        {%- elif m.role == 'assistant' -%}
        {%- set content = m.content -%}
        {%- set reasoning = m.reasoning_content if m.reasoning_content is string else '' -%}
        {%- if m.reasoning_content is not string and '</think>' in content -%}
        {%- set reasoning = content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') -%}
        {%- set content = content.split('</think>')[-1].lstrip('\n') -%}
        {%- endif -%}
        {{- '<|assistant|>' -}}
        {%- if loop.index0 > ns.last_user and reasoning -%}{{- '\n<think>' + reasoning.strip() + '</think>' -}}{%- else -%}{{- '\n<think></think>' -}}{%- endif -%}
        {%- if content.strip() -%}{{- '\n' + content.strip() -}}{%- endif -%}
        {%- else -%}
        {%- if loop.first or messages[loop.index0 - 1].role not in ['tool', 'observation'] -%}{{- '<|observation|>' -}}{%- endif -%}
        {{- '\n<tool_response>\n' + m.content + '\n</tool_response>' -}}
        {%- endif -%}
        {%- endfor -%}
        {%- if add_generation_prompt -%}{{- '<|assistant|>' -}}{%- if enable_thinking is defined and not enable_thinking -%}{{- '\n<think></think>' -}}{%- endif -%}{%- endif -%}
        """;
}
