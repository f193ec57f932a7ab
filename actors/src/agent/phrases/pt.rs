//! Portuguese (Brazilian) phrases (same keys and slots as English).

/// Key → template.
pub const PHRASES: &[(&str, &str)] = &[
    ("and", "e"),
    (
        "greeting",
        "Oi! Eu sou {name}. Posso encontrar produtos para você, responder às suas perguntas sobre eles e cuidar do seu carrinho. O que você está procurando?",
    ),
    (
        "greeting_back",
        "Oi de novo! Seu carrinho continua aqui ({count} itens, {total}). Em que mais posso ajudar?",
    ),
    ("farewell", "Obrigado pela visita, tenha um ótimo dia!"),
    (
        "farewell_cart",
        "Obrigado pela visita! Seu carrinho fica salvo ({count} itens, {total}) para quando você quiser voltar.",
    ),
    ("search_intro", "Veja o que encontrei:"),
    (
        "search_intro_budget",
        "Veja o que encontrei dentro do seu orçamento:",
    ),
    (
        "search_intro_size",
        "Veja o que encontrei no tamanho {size}:",
    ),
    ("search_line", "{n}. {title} — {price}"),
    ("search_line_sale", "{n}. {title} — {price} (antes {was})"),
    ("out_of_stock_tag", " (sem estoque)"),
    (
        "search_outro",
        "Me diga de qual você gostou, ou escreva \"adicione o primeiro\" para colocá-lo no carrinho.",
    ),
    (
        "search_none",
        "Não encontrei nada parecido com \"{query}\" no catálogo. Você pode descrever de outro jeito?",
    ),
    (
        "search_none_budget",
        "Não encontrei \"{query}\" dentro desse orçamento. Quer ver opções de qualquer preço?",
    ),
    (
        "search_none_size",
        "Não encontrei \"{query}\" no tamanho {size}. Quer ver outros tamanhos?",
    ),
    (
        "search_what",
        "Que tipo de produto você está procurando? Me conte para que é, um orçamento, uma cor ou um tamanho, e eu busco no catálogo.",
    ),
    (
        "which_product",
        "De qual produto você está falando? Me diga o número dele na lista ou o nome, ou me conte o que você está procurando.",
    ),
    (
        "catalog_down",
        "Desculpe, não consigo acessar o catálogo agora. Tente de novo daqui a pouco.",
    ),
    ("product_price", "{title} custa {price}."),
    ("product_price_sale", "{title} custa {price} (antes {was})."),
    ("product_sizes", "Tamanhos: {sizes}."),
    ("product_colours", "Cores: {colours}."),
    ("in_stock", "Está em estoque."),
    ("out_of_stock", "Está sem estoque no momento."),
    (
        "size_available",
        "Sim, {title} tem o tamanho {size} e está em estoque.",
    ),
    (
        "size_sold_out",
        "O tamanho {size} de {title} está sem estoque no momento.",
    ),
    (
        "size_missing",
        "{title} não tem o tamanho {size}. Tamanhos disponíveis: {sizes}.",
    ),
    (
        "colour_available",
        "Sim, {title} está disponível na cor {colour}.",
    ),
    (
        "colour_missing",
        "{title} não está disponível na cor {colour}. Cores: {colours}.",
    ),
    (
        "from_description",
        "Segundo a descrição do produto: \"{sentence}\"",
    ),
    (
        "no_detail",
        "Os detalhes do produto não informam isso. Se quiser, posso encaminhar sua pergunta para alguém da loja.",
    ),
    (
        "price_tax",
        "Os preços são os do catálogo; impostos ou frete, se houver, aparecem na finalização da compra, antes de você pagar.",
    ),
    ("compare_intro", "Veja a comparação:"),
    ("compare_line", "• {title}: {price}, {stock}{extra}"),
    ("compare_cheaper", "{title} é a opção mais barata."),
    ("compare_same_price", "Os dois têm o mesmo preço."),
    (
        "compare_need_two",
        "Quais produtos devo comparar? Escolha dois da lista, por exemplo \"o primeiro e o segundo\".",
    ),
    ("stock_word_in", "em estoque"),
    ("stock_word_out", "sem estoque"),
    (
        "discount_none",
        "Não tenho cupons nem descontos para oferecer.",
    ),
    ("discount_on_sale", "Estes estão em promoção agora:"),
    (
        "discount_code",
        "Não consigo verificar nem aplicar cupons pelo chat. Se um cupom não funcionar, alguém da loja pode ajudar você.",
    ),
    ("added", "Adicionei {qty} × {title} por {price} cada."),
    ("set_quantity", "Pronto: {qty} × {title} no seu carrinho."),
    (
        "cart_summary",
        "Seu carrinho: {count} itens, {total} no total.",
    ),
    (
        "needs_variant",
        "{title} está disponível em {options}. Qual {dimension} você prefere?",
    ),
    (
        "no_such_variant",
        "{title} não está disponível em {wanted}. Opções disponíveis: {options}.",
    ),
    ("sold_out", "Desculpe, {title} está sem estoque no momento."),
    (
        "not_enough_stock",
        "Desculpe, só temos {available} de {title} em estoque.",
    ),
    (
        "not_sold_here",
        "Desculpe, esse produto não está disponível nesta loja.",
    ),
    (
        "cart_refused",
        "Não consegui alterar seu carrinho: {reason}.",
    ),
    ("removed", "Removi {title} do seu carrinho."),
    ("reduced", "Agora você tem {qty} × {title} no carrinho."),
    ("emptied", "Pronto, seu carrinho está vazio."),
    (
        "not_in_cart",
        "Não entendi qual item tirar. Seu carrinho tem: {items}.",
    ),
    ("cart_already_empty", "Seu carrinho já está vazio."),
    ("cart_view", "Seu carrinho:"),
    ("cart_line", "• {qty} × {title} — {line_total}"),
    ("cart_total", "Total: {total}."),
    (
        "cart_empty",
        "Seu carrinho está vazio. O que posso ajudar você a encontrar?",
    ),
    (
        "cart_repriced",
        "Atenção: o preço de {title} mudou de {old} para {new}.",
    ),
    (
        "cart_gone",
        "Atenção: {title} não está mais disponível, então removi do seu carrinho.",
    ),
    (
        "cart_lowered",
        "Atenção: só temos {qty} de {title} em estoque, então diminuí a quantidade.",
    ),
    (
        "checkout_not_configured",
        "O pagamento online ainda não está configurado nesta loja, então não consigo criar um link de pagamento. Seu carrinho está salvo: {count} itens, {total}.",
    ),
    (
        "checkout_empty",
        "Seu carrinho está vazio. Adicione algo primeiro e eu ajudo você a finalizar a compra.",
    ),
    (
        "order_ask",
        "Qual é o número do seu pedido? Você encontra no e-mail de confirmação do pedido.",
    ),
    (
        "order_not_found",
        "Não encontrei nenhum pedido com o número {number} nesta loja. Confira o número no seu e-mail de confirmação ou me peça para chamar uma pessoa.",
    ),
    ("order_found", "Pedido {number}: {status}, total {total}."),
    (
        "shipping_policy",
        "Esta é a política de entrega da loja: {policy}",
    ),
    (
        "returns_policy",
        "Esta é a política de devolução da loja: {policy}",
    ),
    (
        "policy_unknown",
        "A loja não me passou essas informações. Se quiser, posso encaminhar sua pergunta para alguém da loja.",
    ),
    (
        "payment_issue",
        "Sinto muito pelo problema com o seu pagamento. Daqui não consigo ver os dados de pagamento, então pedi para alguém da loja entrar em contato com você.",
    ),
    (
        "handoff",
        "Pedi para alguém da loja assumir o atendimento. A pessoa vai responder você aqui assim que puder.",
    ),
    (
        "handoff_failed",
        "Desculpe, não consegui falar com a equipe da loja agora. Tente de novo daqui a pouco.",
    ),
    (
        "off_topic",
        "Aqui eu só posso ajudar com suas compras: encontrar produtos, seu carrinho, entrega e devoluções. O que você está procurando?",
    ),
    (
        "unknown",
        "Desculpe, não entendi direito. Posso encontrar produtos, responder perguntas sobre eles, cuidar do seu carrinho ou falar sobre entrega e devoluções.",
    ),
    ("items_word", "itens"),
    ("opener_friendly", "Ótima escolha! "),
    ("opener_playful", "Uau, boa escolha! "),
    (
        "guard_price",
        "Só posso indicar preços, totais e descontos exatamente como aparecem no nosso catálogo e no seu carrinho, por isso não posso confirmar isso. Pergunte por qualquer produto e eu digo o preço real.",
    ),
    (
        "guard_prompt",
        "Não posso compartilhar como fui configurado, mas fico feliz em ajudar você a encontrar algo na loja.",
    ),
    (
        "off_topic_professional",
        "Desculpe, só posso ajudar com compras nesta loja: produtos, carrinho, entrega e devoluções. Como posso ajudar?",
    ),
    (
        "off_topic_playful",
        "Quem me dera poder ajudar com isso! Mas meu superpoder é fazer compras: produtos, carrinho, entrega e devoluções. O que vamos procurar?",
    ),
    (
        "checkout_ready",
        "Aqui está o link de pagamento do pedido #{number} ({total}): {url}",
    ),
    (
        "checkout_failed",
        "Desculpe, não consegui criar o link de pagamento agora. Seu carrinho está salvo; tente de novo daqui a pouco.",
    ),
    (
        "order_paid",
        "Pagamento recebido, obrigado! O pedido #{number} ({total}) está confirmado.",
    ),
    (
        "order_expired",
        "O link de pagamento do pedido #{number} expirou sem pagamento. Peça um novo quando quiser.",
    ),
    (
        "order_canceled",
        "O pedido #{number} foi cancelado e nada foi cobrado. Peça um novo link de pagamento quando quiser.",
    ),
    (
        "order_refunded",
        "O pedido #{number} foi reembolsado ({total}).",
    ),
    (
        "order_disputed",
        "Foi aberta uma contestação de pagamento para o pedido #{number}. A equipe da loja vai analisar.",
    ),
];
