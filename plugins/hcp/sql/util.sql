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

-- An SMS reply's canonical level (domain.md 3.5): a leading digit 1-5, else exactly one level phrase,
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

-- The texts of a JSON array's elements, in order. A function, not an ARRAY(SELECT ...) in the view: a
-- subquery keeps the whole row's expressions out of the parallel workers, and the leader alone computed 1.8M
-- app ratings' columns. It takes jsonb, not the text: a cast of a constant is folded when the function is
-- planned, and a malformed text would fail there whatever CASE guards it.
create or replace function util.jsonb_text_array(value jsonb) returns text[]
language sql immutable parallel safe as $$
    select coalesce(array_agg(element order by position), '{}')
    from jsonb_array_elements_text(value) with ordinality as elements (element, position)
$$;
