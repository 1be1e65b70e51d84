Bonjour {{NAME}},

Votre comité : {{COMMITTEE}} ({{COUNT}} membres).
{{#ROW}}{{N}}. {{EMAIL}} [{{COMMITTEE}}]
{{/ROW}}{{#FOOTER}}-- 
{{SIGNATURE}}
{{/FOOTER}}