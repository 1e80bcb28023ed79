"""Users: `archiver users ...` and the admin page; hashes never shown, changes audited."""

from __future__ import annotations

import re
import stat

from ui_story import PASSWORD, csrf_token

from archiver.audit import AuditLog
from search_ui.users import UserFile


def test_users_add_list_set_role_remove(runner, ui_root, ui_archive):
    result = runner(
        "users",
        "add",
        "Dana",
        "--role",
        "exporter",
        "--password-stdin",
        input="a long enough secret\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"added dana (exporter) to {ui_root / 'users.json'}\n"
    listing = runner("users", "list").output
    assert re.search(r"^dana\s+exporter\s+added \d{4}-", listing, re.M)
    assert "scrypt" not in listing and "secret" not in listing
    assert runner("users", "set-role", "dana", "admin").output == "dana is now admin\n"
    assert runner("users", "remove", "dana").output == "removed dana\n"
    assert "dana" not in runner("users", "list", "--json").output
    events = AuditLog(ui_archive.store).events()
    assert [(e.action, e.detail["name"]) for e in events] == [
        ("user_removed", "dana"),
        ("role_changed", "dana"),
        ("user_added", "dana"),
    ]
    assert events[-1].user.startswith("cli")


def test_the_password_is_prompted_twice_and_never_echoed(runner, ui_root):
    result = runner("users", "add", "fred", input="another good one\nanother good one\n")
    assert result.exit_code == 0, result.output
    assert "another good one" not in result.output
    assert UserFile(ui_root / "users.json").authenticate("fred", "another good one")


def test_user_errors_are_one_line(runner):
    result = runner("users", "add", "vic", "--password-stdin", input="long enough pass\n")
    assert (result.exit_code, result.output) == (1, "error: user 'vic' already exists\n")
    result = runner("users", "add", "zed", "--password-stdin", input="short\n")
    assert result.output == "error: password too short: use at least 10 characters\n"
    result = runner("users", "add", "bad name!", "--password-stdin", input="long enough pass\n")
    assert result.output.startswith("error: user name 'bad name!' is not allowed")
    assert runner("users", "remove", "nobody").output == "error: no user 'nobody'\n"
    assert runner("users", "set-role", "vic", "owner").exit_code == 2


def test_the_users_file_is_private(ui_root):
    users = UserFile(ui_root / "users.json")
    users.add("gail", "a fine password", "viewer")
    mode = stat.S_IMODE((ui_root / "users.json").stat().st_mode)
    assert mode == 0o600
    text = (ui_root / "users.json").read_text()
    assert "a fine password" not in text
    assert repr(users.get("gail")).count("scrypt") == 0  # the hash stays out of reprs


def test_an_admin_adds_changes_and_removes_users_on_the_page(client, auth, ui_root, ui_archive):
    auth.login("ada")
    token = csrf_token(client.get("/admin/users").text)
    response = client.post(
        "/admin/users",
        data={"name": "hal", "role": "viewer", "password": "hal's password", "csrf_token": token},
    )
    assert response.headers["Location"] == "/admin/users"
    page = client.get("/admin/users").text
    assert "Added hal (viewer)." in page
    assert '<th scope="row">hal</th>' in page
    client.post("/admin/users/hal/role", data={"role": "exporter", "csrf_token": token})
    assert UserFile(ui_root / "users.json").get("hal").role == "exporter"
    client.post("/admin/users/hal/remove", data={"csrf_token": token})
    assert UserFile(ui_root / "users.json").get("hal") is None
    actions = [(e.user, e.action) for e in AuditLog(ui_archive.store).events()][:3]
    assert actions == [("ada", "user_removed"), ("ada", "role_changed"), ("ada", "user_added")]


def test_an_admin_cannot_lock_themselves_out(client, auth, ui_root):
    auth.login("ada")
    token = csrf_token(client.get("/admin/users").text)
    response = client.post("/admin/users/ada/role", data={"role": "viewer", "csrf_token": token})
    assert response.status_code == 400
    assert "You cannot change your own account here" in response.text
    assert UserFile(ui_root / "users.json").get("ada").role == "admin"


def test_a_new_user_can_log_in(client, auth, ui_root):
    UserFile(ui_root / "users.json").add("ivy", PASSWORD, "viewer")
    assert auth.login("IVY ", PASSWORD).status_code == 302
    assert "Logged in as <strong>ivy</strong>" in client.get("/search").text
