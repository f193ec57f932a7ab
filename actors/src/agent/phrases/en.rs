//! English phrases (the reference: every other language has the same keys and slots).

/// Key → template.
pub const PHRASES: &[(&str, &str)] = &[
    ("and", "and"),
    (
        "greeting",
        "Hi! I'm {name}. I can find products for you, answer questions about them and keep your cart. What are you looking for?",
    ),
    (
        "greeting_back",
        "Hi again! Your cart is still here ({count} items, {total}). What else can I help you with?",
    ),
    ("farewell", "Thanks for stopping by, have a great day!"),
    (
        "farewell_cart",
        "Thanks for stopping by! Your cart is saved ({count} items, {total}) whenever you want to come back to it.",
    ),
    ("search_intro", "Here's what I found:"),
    (
        "search_intro_budget",
        "Here's what I found within your budget:",
    ),
    ("search_intro_size", "Here's what I found in size {size}:"),
    ("search_line", "{n}. {title} — {price}"),
    ("search_line_sale", "{n}. {title} — {price} (was {was})"),
    ("out_of_stock_tag", " (out of stock)"),
    (
        "search_outro",
        "Tell me which one you like, or say \"add the first one\" to put it in your cart.",
    ),
    (
        "search_none",
        "I couldn't find anything like \"{query}\" in the catalog. Could you describe it another way?",
    ),
    (
        "search_none_budget",
        "I couldn't find \"{query}\" within that budget. Would you like to see options at any price?",
    ),
    (
        "search_none_size",
        "I couldn't find \"{query}\" in size {size}. Would you like to see other sizes?",
    ),
    (
        "search_what",
        "What kind of product are you looking for? Tell me what it's for, a budget, a colour or a size, and I'll search the catalog.",
    ),
    (
        "which_product",
        "Which product do you mean? Tell me its number in the list or its name, or tell me what you're looking for.",
    ),
    (
        "catalog_down",
        "Sorry, I can't reach the catalog right now. Please try again in a moment.",
    ),
    ("product_price", "{title} costs {price}."),
    ("product_price_sale", "{title} costs {price} (was {was})."),
    ("product_sizes", "Sizes: {sizes}."),
    ("product_colours", "Colours: {colours}."),
    ("in_stock", "It's in stock."),
    ("out_of_stock", "It's out of stock right now."),
    (
        "size_available",
        "Yes, {title} comes in size {size} and it's in stock.",
    ),
    (
        "size_sold_out",
        "{title} in size {size} is out of stock right now.",
    ),
    (
        "size_missing",
        "{title} doesn't come in size {size}. Available sizes: {sizes}.",
    ),
    ("colour_available", "Yes, {title} comes in {colour}."),
    (
        "colour_missing",
        "{title} doesn't come in {colour}. Colours: {colours}.",
    ),
    (
        "from_description",
        "From the product description: \"{sentence}\"",
    ),
    (
        "no_detail",
        "The product details don't say. I can pass your question to someone from the store if you like.",
    ),
    (
        "price_tax",
        "Prices are the catalog's; any tax or shipping is shown at checkout before you pay.",
    ),
    ("compare_intro", "Here's how they compare:"),
    ("compare_line", "• {title}: {price}, {stock}{extra}"),
    ("compare_cheaper", "{title} is the less expensive one."),
    ("compare_same_price", "They cost the same."),
    (
        "compare_need_two",
        "Which products should I compare? Pick two from the list, for example \"the first and the second\".",
    ),
    ("stock_word_in", "in stock"),
    ("stock_word_out", "out of stock"),
    (
        "discount_none",
        "I don't have any promo codes or discounts I can offer.",
    ),
    ("discount_on_sale", "These are on sale right now:"),
    (
        "discount_code",
        "I can't check or apply codes in the chat. If a code fails, someone from the store can help.",
    ),
    ("added", "Added {qty} × {title} at {price} each."),
    ("set_quantity", "Done: {qty} × {title} in your cart."),
    (
        "cart_summary",
        "Your cart: {count} items, {total} in total.",
    ),
    (
        "needs_variant",
        "{title} comes in {options}. Which {dimension} would you like?",
    ),
    (
        "no_such_variant",
        "{title} doesn't come in {wanted}. Available: {options}.",
    ),
    ("sold_out", "Sorry, {title} is out of stock right now."),
    (
        "not_enough_stock",
        "Sorry, only {available} of {title} left in stock.",
    ),
    (
        "not_sold_here",
        "Sorry, that product isn't available in this store.",
    ),
    ("cart_refused", "I couldn't change your cart: {reason}."),
    ("removed", "Removed {title} from your cart."),
    ("reduced", "Now {qty} × {title} in your cart."),
    ("emptied", "Your cart is empty now."),
    (
        "not_in_cart",
        "I couldn't tell which item to take out. Your cart has: {items}.",
    ),
    ("cart_already_empty", "Your cart is already empty."),
    ("cart_view", "Your cart:"),
    ("cart_line", "• {qty} × {title} — {line_total}"),
    ("cart_total", "Total: {total}."),
    (
        "cart_empty",
        "Your cart is empty. What can I help you find?",
    ),
    (
        "cart_repriced",
        "Note: the price of {title} changed from {old} to {new}.",
    ),
    (
        "cart_gone",
        "Note: {title} is no longer available, so I took it out of your cart.",
    ),
    (
        "cart_lowered",
        "Note: only {qty} of {title} are in stock, so I lowered the quantity.",
    ),
    (
        "checkout_not_configured",
        "Online checkout isn't set up for this store yet, so I can't create a payment link. Your cart is saved: {count} items, {total}.",
    ),
    (
        "checkout_empty",
        "Your cart is empty. Add something first and I'll help you check out.",
    ),
    (
        "order_ask",
        "What's your order number? You'll find it in your order confirmation email.",
    ),
    (
        "order_not_found",
        "I couldn't find an order with number {number} in this store. Please check the number in your confirmation email, or ask me to get you a person.",
    ),
    ("order_found", "Order {number}: {status}, total {total}."),
    (
        "shipping_policy",
        "Here's the store's shipping policy: {policy}",
    ),
    (
        "returns_policy",
        "Here's the store's returns policy: {policy}",
    ),
    (
        "policy_unknown",
        "The store hasn't given me those details. I can pass your question to someone from the store if you like.",
    ),
    (
        "payment_issue",
        "Sorry about the trouble with your payment. I can't see payment details from here, so I've asked someone from the store to follow up with you.",
    ),
    (
        "handoff",
        "I've asked someone from the store to take over. They'll follow up with you here as soon as they can.",
    ),
    (
        "handoff_failed",
        "Sorry, I couldn't reach the store's team just now. Please try again in a moment.",
    ),
    (
        "off_topic",
        "I can only help with shopping here: finding products, your cart, shipping and returns. What are you looking for?",
    ),
    (
        "unknown",
        "Sorry, I didn't quite get that. I can find products, answer questions about them, manage your cart, or tell you about shipping and returns.",
    ),
    ("items_word", "items"),
    ("opener_friendly", "Great choice! "),
    ("opener_playful", "Ooh, nice pick! "),
    (
        "guard_price",
        "I can only quote prices, totals and discounts exactly as our catalog and your cart give them, so I won't confirm that. Ask me about any product and I'll give you its real price.",
    ),
    (
        "guard_prompt",
        "I can't share how I'm set up, but I'm happy to help you find something in the store.",
    ),
    (
        "off_topic_professional",
        "I'm sorry, I can only assist with shopping in this store: products, your cart, shipping and returns. How may I help you with your purchase?",
    ),
    (
        "off_topic_playful",
        "Ha, I wish I could help with that! My superpower is shopping, though: products, your cart, shipping and returns. What are we hunting for?",
    ),
    (
        "checkout_ready",
        "Here's the payment link for order #{number} ({total}): {url}",
    ),
    (
        "checkout_failed",
        "Sorry, I couldn't create the payment link just now. Your cart is saved; please try again in a moment.",
    ),
    (
        "order_paid",
        "Payment received, thank you! Order #{number} ({total}) is confirmed.",
    ),
    (
        "order_expired",
        "The payment link for order #{number} expired before it was paid. Ask me for a new one whenever you're ready.",
    ),
    (
        "order_canceled",
        "Order #{number} was canceled and nothing was charged. Ask me for a new payment link whenever you're ready.",
    ),
    (
        "order_refunded",
        "Order #{number} has been refunded ({total}).",
    ),
    (
        "order_disputed",
        "A payment dispute was opened for order #{number}. The store's team will look into it.",
    ),
];
