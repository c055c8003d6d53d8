package dev.amalgam.source.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code chat_template} (spec §16.5): a built-in template by name ({@code chatml},
 * {@code llama3}, {@code alpaca}, {@code mistral}, written for Amalgam), {@code auto} (the
 * template most common among the inputs, ties to the base's), or a Jinja template used
 * verbatim (any string containing <code>{%</code> or <code>{{</code>).
 */
public final class ChatTemplates {

    /** The built-in templates by name. */
    public static final Map<String, String> BUILT_IN;

    static {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("chatml", "{% for message in messages %}"
                + "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
                + "{% endfor %}"
                + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}");
        m.put("llama3", "{{ bos_token }}{% for message in messages %}"
                + "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}"
                + "{% endfor %}"
                + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}");
        m.put("alpaca", "{% for message in messages %}"
                + "{% if message['role'] == 'system' %}{{ message['content'] + '\\n\\n' }}"
                + "{% elif message['role'] == 'user' %}{{ '### Instruction:\\n' + message['content'] + '\\n\\n' }}"
                + "{% elif message['role'] == 'assistant' %}{{ '### Response:\\n' + message['content'] + eos_token + '\\n\\n' }}"
                + "{% endif %}{% endfor %}"
                + "{% if add_generation_prompt %}{{ '### Response:\\n' }}{% endif %}");
        m.put("mistral", "{{ bos_token }}{% set system = '' %}"
                + "{% if messages and messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] + '\\n\\n' %}"
                + "{% set messages = messages[1:] %}{% endif %}"
                + "{% for message in messages %}"
                + "{% if message['role'] == 'user' %}"
                + "{{ '[INST] ' + (system if loop.first else '') + message['content'] + ' [/INST]' }}"
                + "{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + eos_token }}"
                + "{% endif %}{% endfor %}");
        BUILT_IN = java.util.Collections.unmodifiableMap(m);
    }

    private ChatTemplates() {
    }

    /**
     * Checks a {@code chat_template} value.
     *
     * @param value as written
     * @throws IllegalArgumentException listing the names for anything else
     */
    public static void check(String value) {
        if (value.equals("auto") || BUILT_IN.containsKey(value) || isJinja(value)) return;
        throw new IllegalArgumentException("unknown chat_template `" + value + "`; valid: auto, "
                + String.join(", ", BUILT_IN.keySet()) + ", or a Jinja template (containing {% or {{)");
    }

    static boolean isJinja(String s) {
        return s.contains("{%") || s.contains("{{");
    }

    /**
     * The template text for a value.
     *
     * @param value   as written ({@link #check} passed)
     * @param folders the inputs' folders, base first if there is one
     * @return the template, or null for {@code auto} when no input has one
     */
    public static String resolve(String value, List<Path> folders) throws IOException {
        if (BUILT_IN.containsKey(value)) return BUILT_IN.get(value);
        if (!value.equals("auto")) return value;
        Map<String, Integer> counts = new LinkedHashMap<>(); // insertion order: the base's first, so it wins ties
        for (Path f : folders) {
            String t = templateOf(f);
            if (t != null) counts.merge(t, 1, Integer::sum);
        }
        String best = null;
        int most = 0;
        for (var e : counts.entrySet()) {
            if (e.getValue() > most) {
                best = e.getKey();
                most = e.getValue();
            }
        }
        return best;
    }

    /** A folder's template: {@code chat_template.jinja}, else {@code tokenizer_config.json}'s {@code chat_template} string. */
    static String templateOf(Path folder) throws IOException {
        Path jinja = folder.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) return Files.readString(jinja);
        Path tc = folder.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(tc)) return null;
        JsonNode t = Vocabulary.json(tc).get("chat_template");
        return t != null && t.isTextual() ? t.asText() : null;
    }

    /**
     * Writes the output's tokenizer_config.json with the template set.
     *
     * @param template   the template text
     * @param current    the tokenizer_config.json the output would get, or null
     * @param scratch    where to write
     * @return the file written
     */
    public static Path write(String template, Path current, Path scratch) throws IOException {
        ObjectNode c = current != null && Files.isRegularFile(current) ? (ObjectNode) Vocabulary.json(current)
                : Vocabulary.JSON.createObjectNode();
        c.put("chat_template", template);
        return TokenizerOutput.write(scratch.resolve("tokenizer_config.json"), c);
    }
}
