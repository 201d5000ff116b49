//! Tests of the chat-template checks: published injection payloads and
//! their obfuscations are flagged; real chat templates, and templates that
//! only mention dunder names in text, comments or strings, are not.

use super::*;

/// Published payloads (CVE-2024-34359 and the SSTI classics) and
/// obfuscated variants.
const MALICIOUS: &[&str] = &[
    "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ self._TemplateReference__context.cycler }}",
    "{{ lipsum|attr('__globals__') }}",
    "{{ lipsum|attr(key) }}",
    "{{ lipsum[('_' * 2) ~ 'globals' ~ ('_' * 2)] }}",
    "{{ x['__cla' ~ 'ss__'] }}",
    "{{ x['__glo' 'bals__'] }}",
    "{{ '%c%cclass%c%c'|format(95, 95, 95, 95) }}",
    "{{ '{0.__class__}'.format(x) }}",
    "{% set g = namespace.__init__.__globals__ %}{{ g }}",
    "{{ messages|map(attribute='__class__')|list }}",
    "{% set o = lipsum.__globals__ %}{{ o.os }}",
    "{{ config.os }}",
    "{{ x.popen('id') }}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{% if \"warning\" in x.__name__ %}\
     {{x()._module.__builtins__['__import__']('os').popen(\"touch /tmp/retr0reg\")}}{%endif%}{% endfor %}",
];

/// Real chat templates (ChatML, Llama 3.1 with tools, Mistral, Qwen 2.5)
/// and text that only mentions the names.
const BENIGN: &[&str] = &[
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
    "{{- bos_token }}\n{%- if not date_string is defined %}{%- set date_string = strftime_now(\"%d %b %Y\") %}{%- endif %}\n{%- set ns = namespace(found=false) %}\n{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content']|trim %}{%- set messages = messages[1:] %}{%- else %}{%- set system_message = \"\" %}{%- endif %}\n{%- for message in messages %}{%- if message.role == 'tool' %}{{- '<|start_header_id|>ipython<|end_header_id|>\\n\\n' }}{%- if message.content is mapping or message.content is iterable %}{{- message.content | tojson }}{%- else %}{{- message.content }}{%- endif %}{%- elif 'tool_calls' in message %}{%- set tool_call = message.tool_calls[0].function %}{{- '{\"name\": \"' + tool_call.name + '\", \"parameters\": ' }}{{- tool_call.arguments | tojson }}{%- else %}{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}{%- endif %}{%- if loop.last and ns.found %}{% break %}{%- endif %}{%- endfor %}",
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% endif %}{% endfor %}",
    "{%- macro render(m) %}{{ m.content }}{%- endmacro %}{%- for message in messages %}{%- if message.tool_calls %}{%- for tool_call in message.tool_calls %}{%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}{{- '<tool_call>\\n{\"name\": \"' }}{{- tool_call.name }}{{- tool_call.arguments | tojson }}{%- endfor %}{%- else %}{{ render(message) }}{%- endif %}{%- endfor %}",
    // DeepSeek-R1-style reasoning split, Gemma role mapping, a Hermes-style type macro
    "{%- set ns = namespace(is_first=false) %}{%- for message in messages %}{%- set content = message['content'] %}{%- if '</think>' in content %}{%- set content = content.split('</think>')[-1] %}{%- endif %}{{ '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' }}{%- endfor %}",
    "{% for message in messages %}{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}",
    "{%- macro json_to_python_type(json_spec) %}{%- set basic_type_map = {\"string\": \"str\", \"number\": \"float\"} %}{%- if basic_type_map[json_spec.type] is defined %}{{- basic_type_map[json_spec.type] }}{%- elif json_spec.type == \"array\" %}{{- \"list[\" + json_to_python_type(json_spec['items']) + \"]\" }}{%- endif %}{%- endmacro %}{%- for tool in tools %}{%- for name, fields in tool.parameters.properties|items %}{{ name }}: {{ json_to_python_type(fields) }}{%- endfor %}{{ tool | tojson }}{%- endfor %}{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join(' ') }}",
    "{# never reach __class__ or __globals__ here #}Prose about __subclasses__ and os.popen( {{ 'do not use __import__' }}{{ message['tool_calls'] }}{{ m['tool' ~ '_calls'] }}{{ prompts['system'] }}{{ message.system }}",
];

#[test]
fn published_payloads_and_obfuscations_are_flagged() {
    for t in MALICIOUS {
        let a = analyze(t);
        assert!(a.unparsable.is_none(), "{t}: {a:?}");
        assert!(!a.reasons.is_empty(), "not flagged: {t}");
    }
}

#[test]
fn real_templates_and_mentions_in_text_are_not_flagged() {
    for t in BENIGN {
        assert_eq!(analyze(t), Analysis::default(), "{t}");
    }
}

#[test]
fn unparsable_templates_fall_back_to_substrings() {
    let a = analyze("{{ ''.__class__ ");
    assert!(a.unparsable.is_some());
    assert!(a.reasons.iter().any(|r| r.contains("__class__")), "{a:?}");
    let a = analyze("{% if %}plain{% endif %}");
    assert!(a.unparsable.is_some());
    assert!(a.reasons.is_empty(), "{a:?}");
}

#[test]
fn deep_nesting_is_refused_before_parsing() {
    let t = format!("{{{{ {}x{} }}}}", "(".repeat(100_000), ")".repeat(100_000));
    let a = analyze(&t);
    assert!(a.unparsable.is_some_and(|e| e.contains("nested")));
    // nesting just under the bound parses (or fails) without overflowing
    let t = format!("{{{{ {}x{} }}}}", "(".repeat(99), ")".repeat(99));
    let _ = analyze(&t);
    let t = "{% if a %}".repeat(10_000);
    assert!(analyze(&t).unparsable.is_some());
    // token count bounded (memory), the payload still found by substring
    let t = format!("{{{{ {} }}}}{{{{ x.__class__ }}}}", "a.".repeat(300_000));
    let a = analyze(&t);
    assert!(a.unparsable.as_ref().is_some_and(|e| e.contains("tokens")));
    assert!(a.reasons.iter().any(|r| r.contains("__class__")), "{a:?}");
}
