from datetime import date

NIGHT = date(2026, 10, 31)


def query(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        rows = cur.fetchall()
    conn.commit()
    return rows
