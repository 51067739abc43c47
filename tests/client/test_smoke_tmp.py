from tests.client.conftest import Api


async def test_smoke(admin_api: Api) -> None:
    p = await admin_api(lambda c: c.projects.create("Web shop"))
    assert p.slug == "web-shop"
    projects = await admin_api.collect(lambda c: c.projects.list(limit=1))
    assert [x.id for x in projects] == [p.id]
    me = await admin_api(lambda c: c.me())
    assert me.username == "admin"
