"""The JSON API for tools (DESIGN.md's shapes) and the public health check."""

from __future__ import annotations

import pytest

from archiver.audit import AuditLog


def test_search_returns_the_documented_shape(client, auth):
    auth.login()
    doc = client.get("/api/search?q=road&sort=date").get_json()
    assert set(doc) == {"total", "page", "per_page", "results", "facets", "notice"}
    assert (doc["total"], doc["page"], doc["per_page"], doc["notice"]) == (2, 1, 20, None)
    first = doc["results"][0]
    assert first == {
        "id": "1002",
        "account": "ExampleshirePolice",
        "kind": "post",
        "author": "ExampleshirePolice",
        "created_at": "2024-05-01T08:05:00.000Z",
        "text": "Road closure on the A123 near Millbrook until 8pm",
        "highlights": '<b class="match">Road</b> closure on the A123 near Millbrook until 8pm',
        "edited": True,
        "deleted": False,
        "deleted_at": None,
        "platform": "x",
    }
    assert doc["facets"]["kind"] == {"post": 2}
    assert doc["facets"]["year"] == {"2024": 1, "2023": 1}


@pytest.mark.ui_template("demo")
def test_search_filters_by_account_and_kind_in_pages(client, auth, demo_zip):
    auth.login()
    query = f"account={demo_zip.username}&kind=like&per_page=5&page=2"
    doc = client.get(f"/api/search?{query}").get_json()
    assert (doc["total"], doc["page"], len(doc["results"])) == (demo_zip.likes, 2, 5)
    assert {r["kind"] for r in doc["results"]} == {"like"}


@pytest.mark.ui_template("sample")
def test_search_filters_the_real_sample(client, auth):
    auth.login()
    doc = client.get("/api/search?account=milahu104&kind=like&per_page=5&page=2").get_json()
    assert (doc["total"], doc["page"], len(doc["results"])) == (12, 2, 5)
    assert {r["kind"] for r in doc["results"]} == {"like"}


def test_search_errors(client, auth):
    auth.login()
    response = client.get("/api/search?to=2024-13-01")
    assert response.status_code == 400
    assert response.get_json() == {"error": "to: expected a date as YYYY-MM-DD, got '2024-13-01'"}
    response = client.get("/api/search?per_page=1000")
    assert response.get_json() == {
        "error": "per_page: expected a whole number from 1 to 100, got '1000'"
    }


def test_item_returns_the_record_versions_and_capture_history(client, auth, ui_archive):
    auth.login()
    doc = client.get("/api/items/1005").get_json()
    assert (doc["id"], doc["collection"], doc["deleted"], doc["deleted_at"]) == (
        "1005",
        "tweets",
        True,
        "2024-06-02T09:00:00.000Z",
    )
    assert doc["record"]["text"] == "Burglary prevention advice: lock your shed"
    assert [h["kind"] for h in doc["capture_history"]] == ["full"]
    edited = client.get("/api/items/1003").get_json()
    assert [v["id"] for v in edited["versions"]] == ["1002", "1003"]
    assert edited["record"]["id"] == "1003"
    assert edited["edited"] is True
    assert [h["kind"] for h in edited["capture_history"]] == ["full", "incremental"]
    assert edited["record"]["raw"] == {
        "id": "1003",
        "text": "Road closure on the A123 near Millbrook until 8pm",
        "created_at": "2024-05-01T08:05:00.000Z",
        "author_id": "1200000000000000001",
    }
    assert client.get("/api/items/4242").get_json() == {"error": "no item 4242 in the archive"}
    assert [e.detail.get("via") for e in AuditLog(ui_archive.store).events(action="view")] == [
        "api",
        "api",
    ]


def test_the_api_is_read_only(client, auth):
    auth.login()
    assert client.post("/api/search?q=road").status_code in (400, 405)
    assert client.delete("/api/items/1001").status_code == 405


def test_tools_call_the_api_with_a_token(client, runner, ui_root, ui_archive):
    result = runner("users", "token", "vic")
    assert result.exit_code == 0
    token = result.output.strip()
    assert token.startswith("sa_") and len(token) > 40
    assert token not in (ui_root / "users.json").read_text()  # kept as a hash only
    bearer = {"Authorization": f"Bearer {token}"}
    doc = client.get("/api/search?q=road", headers=bearer).get_json()
    assert doc["total"] == 2
    assert AuditLog(ui_archive.store).events(action="search")[0].user == "vic"
    # a token opens the API only, never the pages
    assert client.get("/search", headers=bearer).status_code == 302
    wrong = {"Authorization": "Bearer sa_not-a-token"}
    assert client.get("/api/search?q=road", headers=wrong).status_code == 401
    assert runner("users", "token", "vic", "--revoke").output == (
        "the API token of vic is revoked\n"
    )
    assert client.get("/api/search?q=road", headers=bearer).status_code == 401


def test_a_token_keeps_its_users_role(client, runner):
    token = runner("users", "token", "vic").output.strip()
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/items/1001", headers=bearer).status_code == 200
    runner("users", "remove", "vic")
    assert client.get("/api/items/1001", headers=bearer).status_code == 401
