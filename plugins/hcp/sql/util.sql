-- Functions the row rules and the dbt models share. Idempotent.
create schema if not exists util;

-- 统一社会信用代码 (GB 32100-2015): 18 characters from a 31-letter alphabet, the last a check character.
create or replace function util.uscc_is_valid(code text) returns boolean
language sql immutable parallel safe as $$
    select case
        when code is null or code !~ '^[0-9A-HJ-NPQRTUWXY]{18}$' then false
        else substr('0123456789ABCDEFGHJKLMNPQRTUWXY'::text,
                    ((31 - (select sum((strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(code, i::int, 1)) - 1) * w)
                            from unnest(array[1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
                                 with ordinality as weights (w, i))::int % 31) % 31 + 1),
                    1) = substr(code, 18, 1)
    end
$$;

-- Full-width forms (U+FF01..U+FF5E, the ideographic space) folded to ASCII, then trimmed: "　５ " -> "5".
create or replace function util.fold_fullwidth(value text) returns text
language sql immutable parallel safe as $$
    select btrim(translate(value,
        '　！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～',
        ' !"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~'),
        E' \t\r\n')
$$;

-- An SMS reply's canonical level (docs/contract.md §4.5): a leading digit 1-5, else exactly one level phrase,
-- longest match first; null when the reply is an opt-out or does not parse.
create or replace function util.sms_reply_level(reply text) returns integer
language plpgsql immutable parallel safe as $$
declare
    rest text := util.fold_fullwidth(reply);
    phrases text[] := array['非常不满意', '非常满意', '基本满意', '不满意', '满意'];
    levels integer[] := array[5, 1, 3, 4, 2];
    found integer[] := '{}';
    i integer;
begin
    if rest is null then
        return null;
    end if;
    if rest ~ '^[1-5]' then
        return substr(rest, 1, 1)::integer;
    end if;
    for i in 1 .. array_length(phrases, 1) loop
        if strpos(rest, phrases[i]) > 0 then
            found := array_append(found, levels[i]);
            rest := replace(rest, phrases[i], '|');  -- consumed: 非常不满意 does not also count as 满意
        end if;
    end loop;
    if array_length(found, 1) = 1 then
        return found[1];
    end if;
    return null;
end
$$;

create or replace function util.sms_reply_is_opt_out(reply text) returns boolean
language sql immutable parallel safe as $$
    select upper(util.fold_fullwidth(reply)) in ('TD', '退订')
$$;

-- One HMAC pad of the project's secret key, from the session: plugins/hcp/pii.py passes the key's inner and
-- outer pads to every dbt session as hcp.pii_ipad / hcp.pii_opad (hex), so the key never enters SQL text.
-- A session without them (or with them reset to '') fails here rather than hash with no key.
-- SQL, not plpgsql, so that it is inlined into keyed_hash and the views that call it: a function call per
-- pad per rating cost a third of the hash (5M ratings a night). Only a missing pad calls pii_pad_missing.
create or replace function util.pii_pad_missing(name text) returns text
language plpgsql stable parallel safe as $$
begin
    raise exception 'the hashing key is not set in this session (%): run dbt through hcp.dbt', name;
end
$$;

create or replace function util.pii_pad(name text) returns bytea
language sql stable parallel safe as $$
    select decode(coalesce(nullif(current_setting(name, true), ''), util.pii_pad_missing(name)), 'hex')
$$;

-- HMAC-SHA256 (RFC 2104) of a personal value (phone, id card number) under the project's secret key.
create or replace function util.keyed_hash(value text) returns text
language sql stable parallel safe as $$
    select case when nullif(btrim(value), '') is not null then encode(sha256(
        util.pii_pad('hcp.pii_opad')
        || sha256(util.pii_pad('hcp.pii_ipad') || convert_to(btrim(value), 'UTF8'))
    ), 'hex') end
$$;

-- Casts that cannot fail. Staging reads raw text whatever the row rules said of it: the planner may evaluate
-- a column before the quarantine anti-join has removed its row, so every cast in staging and in the row rules
-- goes through one of these, which return null for anything that is not what they read. Plain SQL: a regular
-- expression proves the shape, a little arithmetic the day, and only then does PostgreSQL's own cast run
-- (pg_input_is_valid needs PostgreSQL 16; an exception handler costs a subtransaction per row). Each guard is a
-- CASE nested in the one before it: an AND is folded whole when the planner sees a constant, which would
-- evaluate the cast too. Digits are [0-9], never \d (see to_integer_or_null).

-- Days in month m of year y (proleptic Gregorian, as PostgreSQL counts).
create or replace function util.days_in_month(y integer, m integer) returns integer
language sql immutable parallel safe as $$
    select case when m = 2 then 28 + (y % 4 = 0 and (y % 100 <> 0 or y % 400 = 0))::integer
                else 31 - (m - 1) % 7 % 2 end
$$;

-- Whether 'YYYY-MM-DD...' (its shape already matched) names a real day of years 1-9999.
create or replace function util.is_real_day(value text) returns boolean
language sql immutable parallel safe as $$
    select substr(value, 1, 4) <> '0000'
           and substr(value, 9, 2)::integer
               <= util.days_in_month(substr(value, 1, 4)::integer, substr(value, 6, 2)::integer)
$$;

-- 'YYYY-MM-DD', a real day of years 1-9999. Once its shape and day are proven, PostgreSQL's own cast reads
-- it (ISO order: the session's DateStyle does not matter) and cannot fail.
create or replace function util.to_date_or_null(value text) returns date
language sql stable parallel safe as $$
    select case when value ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' then
        case when util.is_real_day(value) then value::date end
    end
$$;

-- 'YYYY-MM-DD HH:MI:SS[.ffffff]' (or with a T) as a wall-clock timestamp; seconds 0-59, no leap second.
create or replace function util.to_timestamp_or_null(value text) returns timestamp
language sql stable parallel safe as $$
    select case when value
            ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?$'
        then case when util.is_real_day(value) then value::timestamp end
    end
$$;

-- An ISO-8601 instant: 'YYYY-MM-DD[T ]HH:MI:SS[.ffffff]' with 'Z' or an offset of at most 14 hours
-- (+08, +0800, +08:00); without an offset it is Beijing time (docs/contract.md §2.1), whatever the server's TimeZone.
create or replace function util.to_timestamptz_or_null(value text) returns timestamptz
language sql stable parallel safe as $$
    select case when value
            ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)?$'
        then case when util.is_real_day(value) then
            (case when value ~ '(Z|[+-][0-9:]+)$' then value else value || '+08' end)::timestamptz
        end
    end
$$;

-- A whole number that fits an integer: optional sign, ASCII digits, surrounding blanks; no exponent, no other
-- script's digits (a regular expression's \d may match those, and the cast would not read them).
create or replace function util.to_integer_or_null(value text) returns integer
language sql immutable parallel safe as $$
    select case when value ~ '^[ \t\r\n]*[+-]?[0-9]{1,9}[ \t\r\n]*$' then value::integer end
$$;

-- The codes of a list such as '501, 502' split on sep, each trimmed of spaces, in their order; blank: none.
-- The row rules (which report unknown codes) and staging (which carries the codes to the marts) both read
-- codes through it, so that a code the rules found known is the same code in the marts.
create or replace function util.split_codes(value text, sep text) returns text[]
language sql immutable parallel safe as $$
    select coalesce(array(select btrim(code) from unnest(string_to_array(nullif(value, ''), sep))
                          with ordinality as c(code, n) order by n), '{}')
$$;

-- The codes of a JSON array of plain strings or integers ('["501", 502]'), read without a JSON parser, so
-- that no text can make it fail. Anything else that is not blank (an object, a bare code, a string with
-- escapes) is kept whole as a single code, which the marts then report as unknown (docs/contract.md §3.3).
create or replace function util.reason_codes_from_json(value text) returns text[]
language sql immutable parallel safe as $$
    select case
        when nullif(btrim(value, E' \t\r\n'), '') is null or value ~ '^\s*\[\s*\]\s*$' then '{}'::text[]
        when value ~ '^\s*\[\s*("[^"\\,]*"|-?[0-9]+)(\s*,\s*("[^"\\,]*"|-?[0-9]+))*\s*\]\s*$' then
            regexp_split_to_array(btrim(replace(substring(value from '^\s*\[(.*)\]\s*$'), '"', ''), E' \t\r\n'),
                                  '\s*,\s*')
        else array[value]
    end
$$;
