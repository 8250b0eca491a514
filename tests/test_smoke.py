def test_healthz_is_open(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.data == b"ok"


def test_dashboard_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_login_and_dashboard(client, login):
    login("csr")
    response = client.get("/")
    assert response.status_code == 200
    assert "Csr" in response.get_data(as_text=True)
