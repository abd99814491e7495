def test_catalog_page_answers(client, model):
    response = client.get("/models/")
    assert response.status_code == 200
    assert model.full_name in response.content.decode()
