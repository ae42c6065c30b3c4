from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.usefixtures("reference_data")
class TestCascadeOptions:
    def test_a_province_gives_its_cities_and_clears_the_county(self, client: Client) -> None:
        html = client.get("/directory/options/region/", {"province": "330000"}).content.decode()
        assert '<option value="330200">宁波市</option>' in html
        assert 'id="id_county" hx-swap-oob="innerHTML"' in html

    def test_a_city_gives_its_counties(self, client: Client) -> None:
        html = client.get("/directory/options/region/", {"city": "330200"}).content.decode()
        assert '<option value="330211">镇海区</option>' in html
        assert "hx-swap-oob" not in html

    def test_industry_levels_follow_the_standard(self, client: Client) -> None:
        html = client.get("/directory/options/industry/", {"industry_1": "C"}).content.decode()
        assert '<option value="13">农副食品加工业</option>' in html
        html = client.get("/directory/options/industry/", {"industry_3": "131"}).content.decode()
        assert '<option value="1311">稻谷加工</option>' in html

    @pytest.mark.parametrize("value", ["", "\x00", "33' OR 1=1", "x" * 300])
    def test_a_malformed_parent_gives_just_the_empty_choice(
        self, client: Client, value: str
    ) -> None:
        response = client.get("/directory/options/region/", {"province": value})
        assert response.status_code == 200
        assert response.content.decode().count("<option") == 2  # 请选择 + the cleared county

    def test_an_unknown_tree_or_missing_parameter_is_404(self, client: Client) -> None:
        assert client.get("/directory/options/planets/", {"province": "33"}).status_code == 404
        assert client.get("/directory/options/region/").status_code == 404

    def test_it_answers_in_one_query(self, client: Client, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
        with django_assert_num_queries(1):
            client.get("/directory/options/region/", {"province": "440000"})
