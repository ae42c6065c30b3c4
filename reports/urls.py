from django.urls import path, register_converter

from reports import views


class PeriodConverter:
    """YYYY-MM; whether the month may be reported is the view's check (404 outside the window)."""

    regex = r"\d{4}-\d{2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: object) -> str:
        return str(value)


register_converter(PeriodConverter, "period")

app_name = "reports"
urlpatterns = [
    path("", views.current, name="current"),
    path("history/", views.history, name="history"),
    path("<period:period>/", views.wizard, name="wizard"),
    path("<period:period>/basic/", views.basic, name="basic"),
    path("<period:period>/indicators/", views.indicators, name="indicators"),
    path("<period:period>/products/", views.products, name="products"),
    path("<period:period>/products/row/", views.product_row, name="product_row"),
    path("<period:period>/questionnaires/", views.questionnaires, name="questionnaires"),
    path("<period:period>/questionnaires/<int:pk>/", views.questionnaire, name="questionnaire"),
    path("<period:period>/submit/", views.submit_view, name="submit"),
    path("<period:period>/withdraw/", views.withdraw, name="withdraw"),
    path("<period:period>/view/", views.view, name="view"),
    path("<period:period>/receipt/", views.receipt, name="receipt"),
]
