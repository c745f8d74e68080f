"""Every GraphQL document the Shopify connector sends (Admin API). Each one is validated against the
published Admin schema in tests/test_operations.py, and the fake executes them against it.

Sizes are chosen so that a page stays well under Shopify's single-query limit of 1,000 cost points:
ORDERS_PAGE_SIZE orders x (LINE_ITEMS_PAGE_SIZE lines + fulfillments + customer)."""

from __future__ import annotations

ORDERS_PAGE_SIZE = 10
LINE_ITEMS_PAGE_SIZE = 10
RETURNS_ORDERS_PAGE_SIZE = 5
RETURNS_PER_ORDER = 3
RETURN_LINES_PER_RETURN = 10

_MONEY = "shopMoney { amount currencyCode }"

ORDER_FIELDS = f"""
  id
  legacyResourceId
  name
  createdAt
  updatedAt
  cancelledAt
  closed
  displayFinancialStatus
  displayFulfillmentStatus
  currencyCode
  email
  customerLocale
  totalPriceSet {{ {_MONEY} }}
  customer {{ id legacyResourceId displayName firstName lastName locale }}
  shippingAddress {{ countryCodeV2 address1 address2 zip city }}
  lineItems(first: {LINE_ITEMS_PAGE_SIZE}) {{
    nodes {{ id sku name title quantity originalUnitPriceSet {{ {_MONEY} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
  fulfillments(first: 5) {{
    id status displayStatus createdAt inTransitAt deliveredAt
    trackingInfo(first: 3) {{ company number }}
  }}
"""

ORDERS_QUERY = f"""
query AftersalesOrders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    nodes {{ {ORDER_FIELDS} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""

# The rest of an order's line items when it has more than LINE_ITEMS_PAGE_SIZE.
ORDER_LINE_ITEMS_QUERY = f"""
query AftersalesOrderLineItems($id: ID!, $after: String) {{
  order(id: $id) {{
    id
    lineItems(first: 50, after: $after) {{
      nodes {{ id sku name title quantity originalUnitPriceSet {{ {_MONEY} }} }}
      pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}
"""

# Whether Shopify issued a return label (a reverse delivery with a shipping label): seen by the
# returns sync, which then fetches it once (RETURN_LABEL_QUERY, returns.rma_labels).
REVERSE_ORDERS_PER_RETURN = 1
REVERSE_DELIVERIES_PER_ORDER = 2
_REVERSE_DELIVERY_LABELS = f"""
      reverseDeliveries(first: {REVERSE_DELIVERIES_PER_ORDER}) {{
        nodes {{ deliverable {{ ... on ReverseDeliveryShippingDeliverable {{ label {{ publicFileUrl }} }} }} }}
      }}
"""

RETURN_FIELDS = f"""
  id
  name
  status
  totalQuantity
  decline {{ reason note }}
  returnLineItems(first: {RETURN_LINES_PER_RETURN}) {{
    nodes {{
      id
      quantity
      returnReason
      returnReasonNote
      customerNote
      ... on ReturnLineItem {{ fulfillmentLineItem {{ lineItem {{ id sku }} }} }}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
  reverseFulfillmentOrders(first: {REVERSE_ORDERS_PER_RETURN}) {{
    nodes {{ {_REVERSE_DELIVERY_LABELS} }}
  }}
"""

# Returns have no top-level search in 2025-01: they are read through the orders updated since the
# watermark (a return's change updates its order). Orders without returns cost only the empty
# connection in actualQueryCost.
ORDERS_WITH_RETURNS_QUERY = f"""
query AftersalesReturns($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    nodes {{
      id
      legacyResourceId
      name
      updatedAt
      email
      currencyCode
      customer {{ id legacyResourceId displayName firstName lastName locale }}
      returns(first: {RETURNS_PER_ORDER}) {{
        nodes {{ {RETURN_FIELDS} }}
        pageInfo {{ hasNextPage endCursor }}
      }}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""

# The rest of an order's returns when it has more than RETURNS_PER_ORDER.
ORDER_RETURNS_QUERY = f"""
query AftersalesOrderReturns($id: ID!, $after: String) {{
  order(id: $id) {{
    id
    returns(first: {RETURNS_PER_ORDER}, after: $after) {{
      nodes {{ {RETURN_FIELDS} }}
      pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}
"""

# The rest of a return's lines when it has more than RETURN_LINES_PER_RETURN.
RETURN_LINE_ITEMS_QUERY = """
query AftersalesReturnLineItems($id: ID!, $after: String) {
  return(id: $id) {
    id
    returnLineItems(first: 50, after: $after) {
      nodes {
        id
        quantity
        returnReason
        returnReasonNote
        customerNote
        ... on ReturnLineItem { fulfillmentLineItem { lineItem { id sku } } }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

SHOP_QUERY = """
query AftersalesShop {
  shop { name myshopifyDomain currencyCode }
}
"""

RETURN_APPROVE_MUTATION = """
mutation AftersalesReturnApprove($input: ReturnApproveRequestInput!) {
  returnApproveRequest(input: $input) {
    return { id status }
    userErrors { code field message }
  }
}
"""

RETURN_DECLINE_MUTATION = """
mutation AftersalesReturnDecline($input: ReturnDeclineRequestInput!) {
  returnDeclineRequest(input: $input) {
    return { id status decline { reason note } }
    userErrors { code field message }
  }
}
"""

# Where a return stands (a decision retried after a lost answer finds it already taken).
RETURN_STATUS_QUERY = """
query AftersalesReturnStatus($id: ID!) {
  return(id: $id) { id status decline { reason note } }
}
"""

# The return's labels (Capability.FETCH_RETURN_LABEL): every reverse delivery's shipping label (a
# public PDF URL) and tracking; the newest label is fetched.
RETURN_LABEL_QUERY = """
query AftersalesReturnLabel($id: ID!) {
  return(id: $id) {
    id
    status
    reverseFulfillmentOrders(first: 5) {
      nodes {
        id
        reverseDeliveries(first: 10) {
          nodes {
            id
            deliverable {
              ... on ReverseDeliveryShippingDeliverable {
                label { publicFileUrl createdAt }
                tracking { number carrierName url }
              }
            }
          }
        }
      }
    }
  }
}
"""

# What a refund needs to know first: the order's successful sale/capture (parent, gateway).
ORDER_TRANSACTIONS_QUERY = f"""
query AftersalesOrderTransactions($id: ID!) {{
  order(id: $id) {{
    id
    currencyCode
    transactions(first: 20) {{ id kind status gateway parentTransaction {{ id }} amountSet {{ {_MONEY} }} }}
  }}
}}
"""

# `@idempotent(key:)`: the key is a variable so the document text is the same for every refund.
REFUND_CREATE_MUTATION = f"""
mutation AftersalesRefundCreate($input: RefundInput!, $idempotencyKey: String!) {{
  refundCreate(input: $input) @idempotent(key: $idempotencyKey) {{
    refund {{
      id
      createdAt
      totalRefundedSet {{ {_MONEY} }}
      transactions(first: 10) {{ nodes {{ id kind status errorCode }} }}
    }}
    userErrors {{ field message }}
  }}
}}
"""

ORDER_REFUNDS_QUERY = f"""
query AftersalesOrderRefunds($id: ID!) {{
  order(id: $id) {{
    id
    refunds(first: 20) {{
      id
      createdAt
      note
      totalRefundedSet {{ {_MONEY} }}
      transactions(first: 3) {{ nodes {{ id kind status errorCode }} }}
    }}
  }}
}}
"""

ORDER_FULFILLMENT_ORDERS_QUERY = """
query AftersalesFulfillmentOrders($id: ID!) {
  order(id: $id) {
    id
    fulfillments(first: 10) { id status trackingInfo(first: 3) { company number } }
    fulfillmentOrders(first: 5) {
      nodes {
        id
        status
        lineItems(first: 20) { nodes { id remainingQuantity lineItem { id } } }
      }
    }
  }
}
"""

FULFILLMENT_CREATE_MUTATION = """
mutation AftersalesFulfillmentCreate($fulfillment: FulfillmentInput!, $message: String) {
  fulfillmentCreate(fulfillment: $fulfillment, message: $message) {
    fulfillment { id status trackingInfo(first: 5) { company number } }
    userErrors { field message }
  }
}
"""

ALL_DOCUMENTS = {
    "orders": ORDERS_QUERY,
    "order_line_items": ORDER_LINE_ITEMS_QUERY,
    "orders_with_returns": ORDERS_WITH_RETURNS_QUERY,
    "order_returns": ORDER_RETURNS_QUERY,
    "return_line_items": RETURN_LINE_ITEMS_QUERY,
    "shop": SHOP_QUERY,
    "return_approve": RETURN_APPROVE_MUTATION,
    "return_decline": RETURN_DECLINE_MUTATION,
    "return_status": RETURN_STATUS_QUERY,
    "return_label": RETURN_LABEL_QUERY,
    "order_transactions": ORDER_TRANSACTIONS_QUERY,
    "refund_create": REFUND_CREATE_MUTATION,
    "order_refunds": ORDER_REFUNDS_QUERY,
    "order_fulfillment_orders": ORDER_FULFILLMENT_ORDERS_QUERY,
    "fulfillment_create": FULFILLMENT_CREATE_MUTATION,
}

WEBHOOK_SUBSCRIPTIONS_PAGE_SIZE = 50

# The subscriptions that point at one callback URL (ours: the store's /hooks/shopify/<token>).
WEBHOOK_SUBSCRIPTIONS_QUERY = f"""
query AftersalesWebhookSubscriptions($callbackUrl: URL!, $after: String) {{
  webhookSubscriptions(first: {WEBHOOK_SUBSCRIPTIONS_PAGE_SIZE}, after: $after, callbackUrl: $callbackUrl) {{
    nodes {{
      id
      topic
      format
      endpoint {{ __typename ... on WebhookHttpEndpoint {{ callbackUrl }} }}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""

WEBHOOK_SUBSCRIPTION_CREATE_MUTATION = """
mutation AftersalesWebhookSubscriptionCreate(
  $topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!
) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}
"""

WEBHOOK_SUBSCRIPTION_DELETE_MUTATION = """
mutation AftersalesWebhookSubscriptionDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) {
    deletedWebhookSubscriptionId
    userErrors { field message }
  }
}
"""
