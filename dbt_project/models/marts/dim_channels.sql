select
    channel,
    channel_name,
    channel_name_zh,
    source_format,
    level_scale
from {{ ref('channels') }}
