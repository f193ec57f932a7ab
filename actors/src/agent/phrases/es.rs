//! Spanish phrases (same keys and slots as English).

/// Key → template.
pub const PHRASES: &[(&str, &str)] = &[
    ("and", "y"),
    (
        "greeting",
        "¡Hola! Soy {name}. Puedo buscar productos para ti, responder tus preguntas sobre ellos y ocuparme de tu carrito. ¿Qué estás buscando?",
    ),
    (
        "greeting_back",
        "¡Hola de nuevo! Tu carrito sigue aquí ({count} artículos, {total}). ¿En qué más te puedo ayudar?",
    ),
    ("farewell", "¡Gracias por pasarte! Que tengas un gran día."),
    (
        "farewell_cart",
        "¡Gracias por pasarte! Tu carrito queda guardado ({count} artículos, {total}) para cuando quieras volver.",
    ),
    ("search_intro", "Esto es lo que encontré:"),
    (
        "search_intro_budget",
        "Esto es lo que encontré dentro de tu presupuesto:",
    ),
    (
        "search_intro_size",
        "Esto es lo que encontré en talla {size}:",
    ),
    ("search_line", "{n}. {title} — {price}"),
    ("search_line_sale", "{n}. {title} — {price} (antes {was})"),
    ("out_of_stock_tag", " (agotado)"),
    (
        "search_outro",
        "Dime cuál te gusta o escribe \"añade el primero\" para ponerlo en tu carrito.",
    ),
    (
        "search_none",
        "No encontré nada parecido a \"{query}\" en el catálogo. ¿Podrías describirlo de otra forma?",
    ),
    (
        "search_none_budget",
        "No encontré \"{query}\" dentro de ese presupuesto. ¿Quieres ver opciones de cualquier precio?",
    ),
    (
        "search_none_size",
        "No encontré \"{query}\" en talla {size}. ¿Quieres ver otras tallas?",
    ),
    (
        "search_what",
        "¿Qué tipo de producto buscas? Cuéntame para qué es, tu presupuesto, un color o una talla, y lo busco en el catálogo.",
    ),
    (
        "which_product",
        "¿A qué producto te refieres? Dime su número en la lista o su nombre, o cuéntame qué estás buscando.",
    ),
    (
        "catalog_down",
        "Lo siento, ahora mismo no puedo acceder al catálogo. Inténtalo de nuevo en un momento.",
    ),
    ("product_price", "{title} cuesta {price}."),
    (
        "product_price_sale",
        "{title} cuesta {price} (antes {was}).",
    ),
    ("product_sizes", "Tallas: {sizes}."),
    ("product_colours", "Colores: {colours}."),
    ("in_stock", "Está disponible."),
    ("out_of_stock", "Ahora mismo está agotado."),
    (
        "size_available",
        "Sí, {title} tiene la talla {size} y está disponible.",
    ),
    (
        "size_sold_out",
        "La talla {size} de {title} está agotada ahora mismo.",
    ),
    (
        "size_missing",
        "{title} no tiene la talla {size}. Tallas disponibles: {sizes}.",
    ),
    (
        "colour_available",
        "Sí, {title} está disponible en {colour}.",
    ),
    (
        "colour_missing",
        "{title} no está disponible en {colour}. Colores: {colours}.",
    ),
    (
        "from_description",
        "Según la descripción del producto: \"{sentence}\"",
    ),
    (
        "no_detail",
        "Los detalles del producto no lo indican. Si quieres, puedo pasarle tu pregunta a alguien de la tienda.",
    ),
    (
        "price_tax",
        "Los precios son los del catálogo; los impuestos o gastos de envío, si los hay, se muestran al finalizar la compra, antes de pagar.",
    ),
    ("compare_intro", "Así se comparan:"),
    ("compare_line", "• {title}: {price}, {stock}{extra}"),
    ("compare_cheaper", "{title} es la opción más económica."),
    ("compare_same_price", "Cuestan lo mismo."),
    (
        "compare_need_two",
        "¿Qué productos comparo? Elige dos de la lista, por ejemplo \"el primero y el segundo\".",
    ),
    ("stock_word_in", "disponible"),
    ("stock_word_out", "agotado"),
    (
        "discount_none",
        "No tengo códigos promocionales ni descuentos que pueda ofrecerte.",
    ),
    ("discount_on_sale", "Ahora mismo están en oferta:"),
    (
        "discount_code",
        "No puedo comprobar ni aplicar códigos en el chat. Si un código no funciona, alguien de la tienda te puede ayudar.",
    ),
    ("added", "Añadí {qty} × {title} a {price} la unidad."),
    ("set_quantity", "Listo: {qty} × {title} en tu carrito."),
    (
        "cart_summary",
        "Tu carrito: {count} artículos, {total} en total.",
    ),
    (
        "needs_variant",
        "{title} está disponible en {options}. ¿Qué {dimension} prefieres?",
    ),
    (
        "no_such_variant",
        "{title} no está disponible en {wanted}. Opciones disponibles: {options}.",
    ),
    (
        "sold_out",
        "Lo siento, ahora mismo no queda stock de {title}.",
    ),
    (
        "not_enough_stock",
        "Lo siento, solo hay {available} de {title} en stock.",
    ),
    (
        "not_sold_here",
        "Lo siento, ese producto no está disponible en esta tienda.",
    ),
    ("cart_refused", "No pude modificar tu carrito: {reason}."),
    ("removed", "Quité {title} de tu carrito."),
    ("reduced", "Ahora tienes {qty} × {title} en tu carrito."),
    ("emptied", "Listo, tu carrito ya está vacío."),
    (
        "not_in_cart",
        "No tengo claro qué artículo quitar. En tu carrito hay: {items}.",
    ),
    ("cart_already_empty", "Tu carrito ya está vacío."),
    ("cart_view", "Tu carrito:"),
    ("cart_line", "• {qty} × {title} — {line_total}"),
    ("cart_total", "Total: {total}."),
    (
        "cart_empty",
        "Tu carrito está vacío. ¿Qué te ayudo a encontrar?",
    ),
    (
        "cart_repriced",
        "Aviso: el precio de {title} cambió de {old} a {new}.",
    ),
    (
        "cart_gone",
        "Aviso: {title} ya no está disponible, así que lo quité de tu carrito.",
    ),
    (
        "cart_lowered",
        "Aviso: solo hay {qty} de {title} en stock, así que reduje la cantidad.",
    ),
    (
        "checkout_not_configured",
        "Esta tienda todavía no tiene configurado el pago en línea, así que no puedo crear un enlace de pago. Tu carrito está guardado: {count} artículos, {total}.",
    ),
    (
        "checkout_empty",
        "Tu carrito está vacío. Añade algo primero y te ayudo a finalizar la compra.",
    ),
    (
        "order_ask",
        "¿Cuál es tu número de pedido? Lo encontrarás en el correo de confirmación del pedido.",
    ),
    (
        "order_not_found",
        "No encontré ningún pedido con el número {number} en esta tienda. Revisa el número en tu correo de confirmación o pídeme que te pase con una persona.",
    ),
    ("order_found", "Pedido {number}: {status}, total {total}."),
    (
        "shipping_policy",
        "Esta es la política de envíos de la tienda: {policy}",
    ),
    (
        "returns_policy",
        "Esta es la política de devoluciones de la tienda: {policy}",
    ),
    (
        "policy_unknown",
        "La tienda no me ha dado esos datos. Si quieres, puedo pasarle tu pregunta a alguien de la tienda.",
    ),
    (
        "payment_issue",
        "Siento los problemas con tu pago. Desde aquí no puedo ver los datos de pago, así que le he pedido a alguien de la tienda que se ponga en contacto contigo.",
    ),
    (
        "handoff",
        "Le he pedido a alguien de la tienda que se encargue. Te responderá por aquí lo antes posible.",
    ),
    (
        "handoff_failed",
        "Lo siento, ahora mismo no pude contactar con el equipo de la tienda. Inténtalo de nuevo en un momento.",
    ),
    (
        "off_topic",
        "Aquí solo puedo ayudarte con tus compras: buscar productos, tu carrito, envíos y devoluciones. ¿Qué estás buscando?",
    ),
    (
        "unknown",
        "Perdona, no te entendí bien. Puedo buscar productos, responder preguntas sobre ellos, gestionar tu carrito o informarte sobre envíos y devoluciones.",
    ),
    ("items_word", "artículos"),
    ("opener_friendly", "¡Buena elección! "),
    ("opener_playful", "¡Uy, qué buena elección! "),
    (
        "guard_price",
        "Solo puedo indicar precios, totales y descuentos tal como figuran en nuestro catálogo y en tu carrito, así que no puedo confirmarlo. Pregúntame por cualquier producto y te diré su precio real.",
    ),
    (
        "guard_prompt",
        "No puedo compartir cómo estoy configurado, pero con gusto te ayudo a encontrar algo en la tienda.",
    ),
    (
        "off_topic_professional",
        "Lo siento, solo puedo ayudarle con sus compras en esta tienda: productos, su carrito, envíos y devoluciones. ¿En qué puedo ayudarle?",
    ),
    (
        "off_topic_playful",
        "¡Ojalá pudiera ayudarte con eso! Lo mío son las compras: productos, tu carrito, envíos y devoluciones. ¿Qué buscamos hoy?",
    ),
    (
        "checkout_ready",
        "Aquí tienes el enlace de pago del pedido #{number} ({total}): {url}",
    ),
    (
        "checkout_failed",
        "Lo siento, no pude crear el enlace de pago ahora mismo. Tu carrito está guardado; inténtalo de nuevo en un momento.",
    ),
    (
        "order_paid",
        "¡Pago recibido, gracias! El pedido #{number} ({total}) está confirmado.",
    ),
    (
        "order_expired",
        "El enlace de pago del pedido #{number} caducó sin pagarse. Pídeme uno nuevo cuando quieras.",
    ),
    (
        "order_canceled",
        "El pedido #{number} se canceló y no se cobró nada. Pídeme un nuevo enlace de pago cuando quieras.",
    ),
    (
        "order_refunded",
        "Se ha reembolsado el pedido #{number} ({total}).",
    ),
    (
        "order_disputed",
        "Se abrió una disputa de pago para el pedido #{number}. El equipo de la tienda lo revisará.",
    ),
];
