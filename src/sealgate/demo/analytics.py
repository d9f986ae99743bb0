"""Customer-insights computations of the sample API (per customer and per segment).

Churn risk is a transparent toy score in [0, 1]: 75 % recency (days since the last order, saturating
at 180 days) and 25 % inverse order count. Below 0.33 it is "low", up to 0.66 "medium", else "high".
All dates are measured against the fixed :data:`~sealgate.demo.data.ANALYSIS_DATE`.

DELIBERATE FLAW (for the demo): :func:`segment_summary` returns the aggregates a dashboard needs AND
every customer record of the segment with e-mail, phone, address, card last-4 and transactions. That
is OWASP API3 "excessive data exposure"; the OpenAPI description declares only the aggregates, which
is what lets sealgate's response filter cut the response back to the contract.

Config: none. Example::

    from sealgate.demo.analytics import customer_insights, segment_summary
    from sealgate.demo.data import CUSTOMERS
    customer_insights(CUSTOMERS[1])["churnRisk"]     # {'score': 0.29..., 'level': 'low'}
    segment_summary("loyal")["customerCount"]       # 8
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Final

from sealgate.demo.data import ANALYSIS_DATE, CUSTOMERS, ITEMS, Customer

__all__ = ["churn_risk", "customer_insights", "customer_record", "iso", "segment_summary"]

_RECENCY_SATURATION_DAYS: Final = 180.0
_HIGH_RISK: Final = 0.66
_MEDIUM_RISK: Final = 0.33


def iso(moment: datetime) -> str:
    """RFC 3339 timestamp in UTC with a ``Z`` suffix, as every timestamp of the API is written."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _days_since_last_order(customer: Customer) -> int:
    return (ANALYSIS_DATE - customer.transactions[-1].created_at).days


def churn_risk(customer: Customer) -> dict[str, Any]:
    """The customer's churn risk as ``{"score": float, "level": "low"|"medium"|"high"}``."""
    recency = min(1.0, _days_since_last_order(customer) / _RECENCY_SATURATION_DAYS)
    score = round(0.75 * recency + 0.25 / len(customer.transactions), 3)
    level = "high" if score > _HIGH_RISK else "medium" if score >= _MEDIUM_RISK else "low"
    return {"score": score, "level": level}


def _top_categories(customers: list[Customer], n: int = 3) -> list[str]:
    counts = Counter(ITEMS[t.item_id].category for c in customers for t in c.transactions)
    return [category for category, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def customer_insights(customer: Customer) -> dict[str, Any]:
    """Insights about one customer: order metrics, churn risk, favourite categories (no contact data)."""
    total = sum(t.amount for t in customer.transactions)
    orders = len(customer.transactions)
    return {
        "customerId": customer.id,
        "displayName": f"{customer.first_name} {customer.last_name[0]}.",
        "segment": customer.segment,
        "orderCount": orders,
        "lifetimeValue": round(total, 2),
        "avgOrderValue": round(total / orders, 2),
        "firstOrderAt": iso(customer.transactions[0].created_at),
        "lastOrderAt": iso(customer.transactions[-1].created_at),
        "daysSinceLastOrder": _days_since_last_order(customer),
        "churnRisk": churn_risk(customer),
        "topCategories": _top_categories([customer]),
    }


def customer_record(customer: Customer) -> dict[str, Any]:
    """The full CRM record of a customer, personal data included (what the flawed summary leaks)."""
    return {
        "id": customer.id,
        "firstName": customer.first_name,
        "lastName": customer.last_name,
        "email": customer.email,
        "phone": customer.phone,
        "address": {
            "street": customer.address.street,
            "city": customer.address.city,
            "postalCode": customer.address.postal_code,
            "country": customer.address.country,
        },
        "paymentMethod": {"brand": customer.card_brand, "last4": customer.card_last4},
        "segment": customer.segment,
        "churnRisk": churn_risk(customer),
        "transactions": [
            {
                "id": t.id,
                "itemId": t.item_id,
                "amount": t.amount,
                "currency": t.currency,
                "createdAt": iso(t.created_at),
            }
            for t in customer.transactions
        ],
    }


def segment_summary(segment: str) -> dict[str, Any]:
    """Aggregates of one segment -- plus, DELIBERATELY, the raw customer records (see module docstring).

    Returns an empty-segment summary (count 0) for a segment name without customers.
    """
    members = [c for c in CUSTOMERS.values() if c.segment == segment]
    orders = sum(len(c.transactions) for c in members)
    revenue = round(sum(t.amount for c in members for t in c.transactions), 2)
    risks = [churn_risk(c) for c in members]
    return {
        "segment": segment,
        "customerCount": len(members),
        "totalRevenue": revenue,
        "avgOrderValue": round(revenue / orders, 2) if orders else 0.0,
        "avgOrdersPerCustomer": round(orders / len(members), 2) if members else 0.0,
        "churnRisk": {
            "average": round(sum(r["score"] for r in risks) / len(risks), 3) if risks else 0.0,
            "highRiskCount": sum(1 for r in risks if r["level"] == "high"),
        },
        "topCategories": _top_categories(members),
        "asOf": iso(ANALYSIS_DATE),
        # ---------------------------------------------------------------------------------------
        # DELIBERATE FLAW -- EXCESSIVE DATA EXPOSURE (OWASP API3:2023). The dashboard only needs the
        # aggregates above, but this "convenient" field ships every customer record of the segment:
        # names, e-mails, phone numbers, postal addresses, card last-4 and full transaction history,
        # trusting the client to ignore what it does not display. demo/openapi.yaml does NOT declare
        # this field (SegmentSummary has additionalProperties: false), so sealgate's response filter
        # can strip it. Do not "fix" this: the demo and the tests rely on it.
        # ---------------------------------------------------------------------------------------
        "customers": [customer_record(c) for c in members],
    }
