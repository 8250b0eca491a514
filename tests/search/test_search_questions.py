"""A Chinese question typed as one run of characters still finds the records that hold its words."""
from portal.extensions import db
from portal.search import search


def test_a_chinese_question_without_spaces_finds_the_record(app, make_user):
    from portal.blueprints.customers.models import Customer

    user = make_user("reader", "staff")
    db.session.add(Customer(code="HAZCHEM", name_en="Hazchem Storage", name_zh="危化品仓储",
                            notes="危险化学品储存应当符合安全管理要求，储罐区设置防火堤。"))
    db.session.add(Customer(code="OTHER", name_en="Other", notes="船舶靠泊申报流程说明。"))
    db.session.commit()

    exact = search("危险化学品", user=user)
    assert [h.title for h in exact.hits][:1] == ["HAZCHEM Hazchem Storage 危化品仓储"]

    # Not a phrase of the record, but all its words are in it.
    question = search("危险化学品储存的管理要求是什么", user=user)
    assert [h.key for h in question.hits][:1] == [exact.hits[0].key]
    assert all(h.key != "customer:2" for h in question.hits[:1])

    # Nothing of the question in any record: still nothing.
    assert search("航空燃油价格走势", user=user).total == 0
