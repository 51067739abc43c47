"""``pair_filters``: the rows of a set of ``(a, b)`` pairs, found through the pair's index."""

import sqlalchemy as sa

from resentry_core._storage._sql_tx import pair_filters

TABLE = sa.Table(
    "pairs",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("a", sa.Integer, nullable=False),
    sa.Column("b", sa.Text, nullable=False),
    sa.UniqueConstraint("a", "b"),
)


def test_pair_filters_select_exactly_the_pairs_through_the_index() -> None:
    """Only the asked pairs come back (not ``(1, "z")`` nor ``(2, "a")``), in bounded chunks,
    and SQLite searches the unique index instead of scanning the table."""
    engine = sa.create_engine("sqlite://")
    TABLE.metadata.create_all(engine)
    stored = [(a, b) for a in (1, 2, 3) for b in ("a", "z", *(f"k{i}" for i in range(600)))]
    wanted = {(1, "a"), (2, "z"), *((3, f"k{i}") for i in range(600))}
    with engine.begin() as conn:
        conn.execute(sa.insert(TABLE), [{"a": a, "b": b} for a, b in stored])
        filters = list(pair_filters(TABLE.c.a, TABLE.c.b, wanted))
        assert len(filters) == 4  # one per value of a, and the 600 b's of a=3 in two chunks
        found = [
            tuple(row)
            for where in filters
            for row in conn.execute(sa.select(TABLE.c.a, TABLE.c.b).where(where))
        ]
        assert sorted(found) == sorted(wanted)
        for where in filters:
            query = sa.select(TABLE.c.id).where(where)
            sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
            plan = " ".join(row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            assert plan.startswith("SEARCH pairs USING"), plan
