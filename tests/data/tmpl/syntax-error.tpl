Hello {{NAME}}
{{#ROW}}unclosed {{/OTHER}}
