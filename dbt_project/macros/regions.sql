{#- The regions (区划) an area code counts in, as a lateral VALUES list of (region_level, region_code) with null
    codes where a level does not apply (docs/contract.md §8.3): a 9-digit code is a township; its first six
    digits its county, unless they are themselves a city code (ending in 00); first four + 00 its city,
    unless a province code; first two + 0000 its province. A code of another shape counts nowhere. -#}
{% macro region_levels(area_code) -%}
    (values
        ('township', case when {{ area_code }} ~ '^[0-9]{9}$' then {{ area_code }} end),
        ('county', case when {{ area_code }} ~ '^[0-9]{6}([0-9]{3})?$' and substr({{ area_code }}, 5, 2) <> '00'
            then left({{ area_code }}, 6) end),
        ('city', case when {{ area_code }} ~ '^[0-9]{6}([0-9]{3})?$' and substr({{ area_code }}, 3, 2) <> '00'
            then left({{ area_code }}, 4) || '00' end),
        ('province', case when {{ area_code }} ~ '^[0-9]{6}([0-9]{3})?$' then left({{ area_code }}, 2) || '0000' end)
    )
{%- endmacro %}

{#- The level of a region code region_levels gives: the shape of the code says it. -#}
{% macro region_level(region_code) -%}
    case
        when length({{ region_code }}) = 9 then 'township'
        when right({{ region_code }}, 4) = '0000' then 'province'
        when right({{ region_code }}, 2) = '00' then 'city'
        else 'county'
    end
{%- endmacro %}
