"""Superset's configuration for the Haochaping dashboard (SUPERSET_CONFIG_PATH points here).

Everything that differs between a laptop and a province comes from the environment: the key that encrypts the
stored warehouse connection, and the database Superset keeps its own metadata in. No cache server is needed:
Superset 6.1 caches no query results by default and keeps filter state in its metadata database, which every
web worker shares.
"""
import os

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = os.environ["SUPERSET_METADATA_URI"]
RATELIMIT_STORAGE_URI = "memory://"

# Chinese for the offices that read it, English one click away. LANGUAGES must name the default: with Superset's
# empty default the page stays blank.
BABEL_DEFAULT_LOCALE = "zh"
LANGUAGES = {"zh": {"flag": "cn", "name": "简体中文"}, "en": {"flag": "us", "name": "English"}}
# Numbers as Chinese offices write them: 1,234.5 and ¥; months as 2026年10月 where a chart shows dates.
D3_FORMAT = {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["¥", ""]}
D3_TIME_FORMAT = {
    "dateTime": "%Y年%m月%d日 %H:%M:%S", "date": "%Y年%m月%d日", "time": "%H:%M:%S",
    "periods": ["上午", "下午"],
    "days": ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"],
    "shortDays": ["周日", "周一", "周二", "周三", "周四", "周五", "周六"],
    "months": ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月", "十二月"],
    "shortMonths": ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"],
}

# The period filter and the monthly lines keep to the periods the latest night has ended, a subquery on
# marts.data_status (plugins/hcp/dashboard/board.py); every query runs as hcp_bi, which reads the marts only.
FEATURE_FLAGS = {"ALLOW_ADHOC_SUBQUERY": True}

# Served on 127.0.0.1 behind nothing on a workstation; a deployment puts its own proxy and TLS in front.
TALISMAN_ENABLED = False
CONTENT_SECURITY_POLICY_WARNING = False
SUPERSET_WEBSERVER_TIMEOUT = 120
