//! English and Spanish. Every message is declared once with both texts, so a message
//! missing in one language does not compile. The language comes from the `settle_lang`
//! cookie (set by the switch on every page or by the account's language at sign-in), then
//! the browser's `Accept-Language`, then English.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A language the portal speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Lang {
    /// English.
    En,
    /// Spanish.
    Es,
}

/// The cookie holding the chosen language.
pub const LANG_COOKIE: &str = "settle_lang";

impl Lang {
    /// The BCP 47 tag (`en`, `es`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    /// Reads a tag (`es`, `es-MX`, `en-US`...).
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "es" => Some(Lang::Es),
            _ => None,
        }
    }

    /// The other language, for the switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Es,
            Lang::Es => Lang::En,
        }
    }

    /// The language's own name, shown on the switch.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Es => "Español",
        }
    }

    /// The portal language of an account's language.
    #[cfg(feature = "ssr")]
    pub fn from_domain(language: domain::Language) -> Lang {
        match language {
            domain::Language::En => Lang::En,
            domain::Language::Es => Lang::Es,
        }
    }

    /// The account language of a portal language.
    #[cfg(feature = "ssr")]
    pub fn to_domain(self) -> domain::Language {
        match self {
            Lang::En => domain::Language::En,
            Lang::Es => domain::Language::Es,
        }
    }

    /// The `Set-Cookie` value that remembers this language for a year.
    pub fn cookie(self) -> String {
        format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            self.tag()
        )
    }

    /// Picks a language from a `Cookie` header and an `Accept-Language` header.
    pub fn negotiate(cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
        let from_cookie = cookie.and_then(|c| {
            c.split(';').find_map(|kv| {
                let (k, v) = kv.trim().split_once('=')?;
                (k == LANG_COOKIE).then(|| Lang::from_tag(v)).flatten()
            })
        });
        let from_browser = || {
            accept_language.and_then(|a| {
                a.split(',')
                    .find_map(|item| Lang::from_tag(item.split(';').next().unwrap_or("")))
            })
        };
        from_cookie.or_else(from_browser).unwrap_or(Lang::En)
    }
}

/// The language of the page being rendered.
pub fn use_lang() -> Lang {
    use_context::<Lang>().unwrap_or(Lang::En)
}

/// The language of the current request: on the server from its headers, in the browser
/// from the `lang` attribute the server wrote.
pub fn request_lang() -> Lang {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<http::request::Parts>();
        let header = |name: http::header::HeaderName| {
            parts
                .as_ref()
                .and_then(|p| p.headers.get(name))
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        Lang::negotiate(
            header(http::header::COOKIE).as_deref(),
            header(http::header::ACCEPT_LANGUAGE).as_deref(),
        )
    }
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .document_element()
            .and_then(|e| e.get_attribute("lang"))
            .and_then(|l| Lang::from_tag(&l))
            .unwrap_or(Lang::En)
    }
}

macro_rules! messages {
    ($($key:ident => $en:literal, $es:literal;)*) => {
        /// A message shown to debtors.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum Msg { $($key),* }

        /// The text of `msg` in `lang`.
        pub fn t(lang: Lang, msg: Msg) -> &'static str {
            match (lang, msg) {
                $((Lang::En, Msg::$key) => $en, (Lang::Es, Msg::$key) => $es,)*
            }
        }
    };
}

messages! {
    SkipToContent => "Skip to content", "Saltar al contenido";
    SiteTitle => "Resolve your account online", "Resuelva su cuenta en línea";
    Intro => "Follow the link in the text message or letter you received, or enter the account reference printed on your letter. You will confirm who you are before you see any account details.",
        "Siga el enlace del mensaje de texto o de la carta que recibió, o escriba la referencia de cuenta impresa en su carta. Confirmará su identidad antes de ver cualquier detalle de la cuenta.";
    ReferenceLabel => "Account reference (from your letter)", "Referencia de cuenta (de su carta)";
    Continue => "Continue", "Continuar";
    Genuine => "Is this message really from us?", "¿Este mensaje es realmente nuestro?";
    GenuineWho => "We are a debt collector. We never ask for your full Social Security number, a card PIN or a password by text or email.",
        "Somos un cobrador de deudas. Nunca le pedimos por texto o correo electrónico su número de Seguro Social completo, el PIN de una tarjeta ni una contraseña.";
    GenuineCompare => "Compare the account reference with the letter we mailed you.", "Compare la referencia de cuenta con la carta que le enviamos por correo.";
    GenuineCall => "Call the number printed on that letter, not a number from a text message.", "Llame al número impreso en esa carta, no a un número de un mensaje de texto.";
    GenuineAddress => "Check that this page's address in your browser is the one printed on the letter.", "Verifique que la dirección de esta página en su navegador sea la impresa en la carta.";
    DemoMode => "Demo mode: sample accounts are loaded.", "Modo de demostración: hay cuentas de ejemplo cargadas.";
    LinkInvalid => "This link is not valid or has expired. Enter the account reference from your letter instead.",
        "Este enlace no es válido o ha vencido. Escriba en su lugar la referencia de cuenta de su carta.";
    VerifyTitle => "Confirm who you are", "Confirme su identidad";
    VerifyIntro => "To protect your privacy, enter your date of birth and ZIP code. We show no account details until they match.",
        "Para proteger su privacidad, escriba su fecha de nacimiento y su código postal. No mostramos ningún detalle de la cuenta hasta que coincidan.";
    DobLabel => "Date of birth", "Fecha de nacimiento";
    ZipLabel => "ZIP code", "Código postal";
    VerifyButton => "Confirm", "Confirmar";
    VerifyWrong => "Those details do not match our records. After 5 wrong tries, checking is paused for 15 minutes.",
        "Esos datos no coinciden con nuestros registros. Después de 5 intentos fallidos, la verificación se pausa durante 15 minutos.";
    VerifyLocked => "Too many tries. For your security, checking is paused for 15 minutes. Please try again later.",
        "Demasiados intentos. Por su seguridad, la verificación se pausa durante 15 minutos. Inténtelo más tarde.";
    VerifyBusy => "Too many attempts from this connection. Please wait a few minutes.", "Demasiados intentos desde esta conexión. Espere unos minutos.";
    NoAccountChosen => "First open the link you received or enter your account reference.", "Primero abra el enlace que recibió o escriba su referencia de cuenta.";
    AccountTitle => "Your account", "Su cuenta";
    Creditor => "Creditor", "Acreedor";
    OriginalCreditor => "Original creditor", "Acreedor original";
    AccountReference => "Account reference", "Referencia de cuenta";
    CurrentBalance => "Current balance", "Saldo actual";
    ItemizationTitle => "How the amount is calculated", "Cómo se calcula el monto";
    ItemizationDate => "Itemization date", "Fecha de desglose";
    AmountThen => "Amount owed on that date", "Monto adeudado en esa fecha";
    InterestSince => "Interest since then", "Intereses desde entonces";
    FeesSince => "Fees since then", "Cargos desde entonces";
    PaymentsSince => "Payments since then", "Pagos desde entonces";
    CreditsSince => "Credits since then", "Créditos desde entonces";
    AmountNow => "Total amount of the debt now", "Monto total de la deuda ahora";
    HistoryTitle => "Account history", "Historial de la cuenta";
    Date => "Date", "Fecha";
    Entry => "Entry", "Movimiento";
    Amount => "Amount", "Monto";
    PlanTitle => "Payment plan", "Plan de pagos";
    TelegramOffer => "Prefer Telegram? Get your reminders there and check your account from the chat.", "¿Prefiere Telegram? Reciba allí sus recordatorios y consulte su cuenta desde el chat.";
    TelegramConnect => "Use Telegram", "Usar Telegram";
    NoPlan => "You have no payment plan.", "No tiene un plan de pagos.";
    NoticeLink => "Read your validation notice", "Lea su aviso de validación";
    PreferencesLink => "Contact preferences", "Preferencias de contacto";
    SignOut => "Sign out", "Cerrar sesión";
    NoticeTitle => "Validation notice", "Aviso de validación";
    EsignIntro => "We can give you this notice online. Before we do, please agree to receive it electronically. You can still ask for a paper copy at any time, free of charge.",
        "Podemos darle este aviso en línea. Antes, acepte recibirlo electrónicamente. Aún puede pedir una copia en papel en cualquier momento, sin costo.";
    EsignConsent => "I agree to receive this notice and related disclosures electronically, and I can open and keep this page (print or save it).",
        "Acepto recibir este aviso y las divulgaciones relacionadas electrónicamente, y puedo abrir y conservar esta página (imprimirla o guardarla).";
    EsignButton => "Show my notice", "Mostrar mi aviso";
    EsignRequired => "Please tick the box to agree first.", "Primero marque la casilla para aceptar.";
    NoticeFrom => "is a debt collector. We are trying to collect a debt that you owe to", "es un cobrador de deudas. Intentamos cobrar una deuda que usted le debe a";
    NoticeUse => "We will use any information you give us to help collect the debt.", "Usaremos cualquier información que nos dé para ayudar a cobrar la deuda.";
    NoticeOurInfo => "Our information", "Nuestra información";
    NoticeYourInfo => "Your information", "Su información";
    HowCanYouDispute => "How can you dispute the debt?", "¿Cómo puede disputar la deuda?";
    DisputeBy => "Call or write to us by", "Llámenos o escríbanos a más tardar el";
    DisputeBy2 => "to dispute all or part of the debt. If you do not, we will assume that our information is correct.",
        "para disputar toda o parte de la deuda. Si no lo hace, supondremos que nuestra información es correcta.";
    DisputeWritten => "If you write to us by that date, we must stop collection on any amount you dispute until we send you information that shows you owe the debt. You may use the form below or write to us without the form. You may also dispute the debt online on this portal.",
        "Si nos escribe a más tardar en esa fecha, debemos dejar de cobrar cualquier monto que usted dispute hasta que le enviemos información que demuestre que usted debe la deuda. Puede usar el formulario de abajo o escribirnos sin el formulario. También puede disputar la deuda en línea en este portal.";
    OriginalCreditorAsk => "You may request the name and address of the original creditor, if different from the current creditor. If you write by that date, we must stop collection until we send you that information.",
        "Puede pedir el nombre y la dirección del acreedor original, si es distinto del acreedor actual. Si nos escribe a más tardar en esa fecha, debemos dejar de cobrar hasta que le enviemos esa información.";
    WhatElse => "What else can you do?", "¿Qué más puede hacer?";
    WhatElseText => "Go to www.cfpb.gov/debt-collection to learn more about your rights under federal law. Contact a lawyer or a legal aid office if you have questions.",
        "Visite www.cfpb.gov/debt-collection para obtener más información sobre sus derechos según la ley federal. Comuníquese con un abogado o una oficina de asistencia legal si tiene preguntas.";
    DisputeFormTitle => "How do you want to respond?", "¿Cómo desea responder?";
    DisputeBecause => "I want to dispute the debt because I think:", "Quiero disputar la deuda porque creo que:";
    NotMyDebt => "This is not my debt.", "Esta no es mi deuda.";
    AmountWrong => "The amount is wrong.", "El monto es incorrecto.";
    Other => "Other (please describe on reverse or attach additional information).", "Otro (describa al reverso o adjunte información adicional).";
    WantOriginal => "I want you to send me the name and address of the original creditor.", "Quiero que me envíen el nombre y la dirección del acreedor original.";
    DisputeOnline => "You can also dispute online now, and attach documents:",
        "También puede disputar en línea ahora y adjuntar documentos:";
    PrintButton => "Print this notice", "Imprimir este aviso";
    Print => "Print or save this notice with your browser's print command.", "Imprima o guarde este aviso con el comando de impresión de su navegador.";
    DeliveredOn => "Delivered to you online on", "Entregado a usted en línea el";
    PrefsTitle => "Contact preferences", "Preferencias de contacto";
    PrefsIntro => "Tell us when and how not to contact you. We follow these choices for every message.",
        "Díganos cuándo y cómo no contactarlo. Seguimos estas opciones en cada mensaje.";
    InconvenientLegend => "A time of day that is inconvenient for you (your local time)", "Una hora del día que no le conviene (su hora local)";
    From => "From", "Desde";
    To => "To", "Hasta";
    ChannelsLegend => "Do not contact me by", "No me contacten por";
    Sms => "Text message", "Mensaje de texto";
    Email => "Email", "Correo electrónico";
    Call => "Phone call", "Llamada telefónica";
    Telegram => "Telegram", "Telegram";
    StopSms => "Stop all text messages (opt out)", "Dejar de recibir mensajes de texto (darse de baja)";
    SmsStopped => "You have stopped text messages. We do not text you.", "Usted dejó de recibir mensajes de texto. No le enviamos mensajes de texto.";
    StartSms => "Start text messages again", "Volver a recibir mensajes de texto";
    ReachMeLegend => "How to reach you", "Cómo comunicarnos con usted";
    PhoneLabel => "Mobile phone", "Teléfono móvil";
    EmailLabel => "Email address", "Correo electrónico";
    PhoneInvalid => "That phone number is not valid. Nothing was changed.", "Ese número de teléfono no es válido. No se cambió nada.";
    EmailInvalid => "That email address is not valid. Nothing was changed.", "Esa dirección de correo no es válida. No se cambió nada.";
    LanguageLabel => "Language for messages", "Idioma de los mensajes";
    Save => "Save", "Guardar";
    Saved => "Your preferences are saved.", "Sus preferencias se guardaron.";
    TimeRangeInvalid => "Give both times of the range, and make them different.", "Indique ambas horas del rango y que sean distintas.";
    NotFoundTitle => "Page not found", "Página no encontrada";
    GoHome => "Go to the start page", "Ir a la página de inicio";
    Unavailable => "The service is unavailable, please try again shortly.", "El servicio no está disponible; inténtelo de nuevo en breve.";
    Loading => "Loading…", "Cargando…";
    Back => "Back to your account", "Volver a su cuenta";
    SignedOut => "You are signed out.", "Cerró la sesión.";
    AmountInvalid => "Enter an amount between the smallest payment and your balance, like 50.00.", "Escriba un monto entre el pago mínimo y su saldo, por ejemplo 50.00.";
    ProcessorUnavailable => "Payments are unavailable right now. Nothing was charged; please try again shortly.", "Los pagos no están disponibles en este momento. No se cobró nada; inténtelo de nuevo en breve.";
    SettleAgreeRequired => "To accept the settlement, tick the box first.", "Para aceptar el acuerdo, marque primero la casilla.";
    PlanInvalid => "That plan is not possible", "Ese plan no es posible";
    AuthorizeRequired => "To set up the plan, tick the box to authorize the payments.", "Para crear el plan, marque la casilla para autorizar los pagos.";
    InstalmentMoved => "The date of your next payment is changed.", "Se cambió la fecha de su próximo pago.";
    MoveInvalid => "That date is not possible for your next payment.", "Esa fecha no es posible para su próximo pago.";
    CancelConfirmRequired => "To cancel the plan, tick the box first.", "Para cancelar el plan, marque primero la casilla.";
    PlanCancelled => "Your plan is cancelled. No further payment will be taken.", "Su plan está cancelado. No se cobrará ningún otro pago.";
    PlanAwaitingMethod => "waiting for your payment method", "esperando su método de pago";
    PlanActive => "active", "activo";
    PlanCompleted => "paid in full", "pagado por completo";
    PlanBroken => "ended after missed payments", "terminado por pagos no realizados";
    PlanCancelledStatus => "cancelled", "cancelado";
    StatusPaid => "Paid", "Pagado";
    StatusFailed => "Not paid", "No pagado";
    StatusProcessing => "Processing", "En proceso";
    StatusScheduled => "Scheduled", "Programado";
    Status => "Status", "Estado";
    PayTitle => "Make a payment", "Hacer un pago";
    PaymentCancelled => "You left the payment page. Nothing was charged.", "Salió de la página de pago. No se cobró nada.";
    PayInFull => "Pay in full", "Pagar el total";
    PayButton => "Pay", "Pagar";
    PayPart => "Pay part of the balance", "Pagar una parte del saldo";
    AmountLabel => "Amount (at least", "Monto (al menos";
    ContinueToPayment => "Continue to payment", "Continuar al pago";
    SettleTitle => "Settle for less", "Liquidar por menos";
    SettleOffer => "Pay", "Pague";
    SettleBy => "by", "a más tardar el";
    SettleRest => "and the rest of the balance is forgiven once the payment is received.", "y el resto del saldo se perdona al recibir el pago.";
    SettleAgree => "I accept this settlement", "Acepto este acuerdo";
    SettleButton => "Accept and pay", "Aceptar y pagar";
    PlanLink => "Pay over time with a payment plan", "Pagar a plazos con un plan de pagos";
    PayLink => "Make a payment", "Hacer un pago";
    NoFee => "No fee is added to any payment.", "No se agrega ningún cargo a ningún pago.";
    NothingOwed => "Nothing is owed on this account.", "No se debe nada en esta cuenta.";
    ReceiptTitle => "Receipt", "Recibo";
    ReceiptNumber => "Receipt number", "Número de recibo";
    PaidTo => "Paid to", "Pagado a";
    NewBalance => "Balance now", "Saldo actual";
    ReceiptKeep => "Keep this receipt: print it or save it with your browser's print command.", "Guarde este recibo: imprímalo o guárdelo con el comando de impresión de su navegador.";
    ReceiptNotFound => "There is no such receipt for your account.", "No existe ese recibo para su cuenta.";
    MethodSaved => "Thank you. Your payment method is saved.", "Gracias. Su método de pago quedó guardado.";
    YourAuthorization => "Your authorization (copy)", "Su autorización (copia)";
    MoveLabel => "New date for your next payment; today pays it now", "Nueva fecha de su próximo pago; hoy lo paga ahora";
    MoveButton => "Change the date", "Cambiar la fecha";
    CancelConfirm => "Yes, cancel my payment plan", "Sí, cancelar mi plan de pagos";
    CancelPlan => "Cancel the plan", "Cancelar el plan";
    PlanIntro => "Choose how often and how many payments. Each payment is at least", "Elija cada cuánto y cuántos pagos. Cada pago es de al menos";
    FrequencyLabel => "How often", "Cada cuánto";
    Weekly => "Every week", "Cada semana";
    Biweekly => "Every two weeks", "Cada dos semanas";
    Monthly => "Every month", "Cada mes";
    CountLabel => "Number of payments", "Número de pagos";
    FirstLabel => "Date of the first payment", "Fecha del primer pago";
    ShowSchedule => "Show every date and amount", "Mostrar cada fecha y monto";
    YourSchedule => "Your payments", "Sus pagos";
    AuthorizeLabel => "I authorize these payments as described above", "Autorizo estos pagos como se describe arriba";
    AuthorizeButton => "Authorize and save a payment method", "Autorizar y guardar un método de pago";
    PlansNotOffered => "Payment plans are not offered for this debt.", "No se ofrecen planes de pago para esta deuda.";
    NextPayment => "Next payment", "Próximo pago";
    ReplaceCardIntro => "If a payment did not go through, or your card changed, save a different card. The plan goes on with it.", "Si un pago no se realizó o su tarjeta cambió, guarde otra tarjeta. El plan continúa con ella.";
    ReplaceCardButton => "Use a different card", "Usar otra tarjeta";
    NewAmountLabel => "New amount for each remaining payment (at least", "Nuevo monto de cada pago restante (al menos";
    AuthorizeAmount => "I authorize this amount for each remaining payment", "Autorizo este monto para cada pago restante";
    ChangeAmountButton => "Change the amount", "Cambiar el monto";
    AmountChanged => "Your remaining payments are changed. Every date and amount is listed above.", "Sus pagos restantes cambiaron. Cada fecha y monto aparece arriba.";
    AmountChangeInvalid => "That amount is not possible for this plan.", "Ese monto no es posible para este plan.";
    DisputeLink => "Dispute this debt", "Disputar esta deuda";
    DisputeTitle => "Dispute the debt", "Disputar la deuda";
    DisputeIntro => "Tell us what is wrong. We stop collecting as soon as you send this form, until we answer you on this portal.",
        "Díganos qué está mal. Dejamos de cobrar en cuanto envíe este formulario, hasta que le respondamos en este portal.";
    OtherDescribe => "Other (describe it below)", "Otro (descríbalo abajo)";
    DetailsLabel => "Describe the problem (required for “Other”)", "Describa el problema (obligatorio para “Otro”)";
    EvidenceLabel => "Attach a document (optional): PDF, JPEG or PNG, up to 5 MB", "Adjunte un documento (opcional): PDF, JPEG o PNG, hasta 5 MB";
    SendDispute => "Send my dispute", "Enviar mi disputa";
    DisputePageTitle => "Your dispute", "Su disputa";
    DisputeReceivedOn => "We received your dispute on", "Recibimos su disputa el";
    DisputeWrittenNote => "A dispute sent through this portal is a written dispute under federal law (12 CFR 1006.38). We stop collecting this debt until we send you our answer.",
        "Una disputa enviada por este portal es una disputa por escrito según la ley federal (12 CFR 1006.38). Dejamos de cobrar esta deuda hasta enviarle nuestra respuesta.";
    DisputeWithinPeriod => "You disputed within the validation period, which ends on", "Usted disputó dentro del período de validación, que termina el";
    DisputeAfterPeriod => "You disputed after the validation period, which ended on", "Usted disputó después del período de validación, que terminó el";
    DisputeStatus => "Status", "Estado";
    StatusOpen => "Waiting for our answer. Collection is stopped.", "Esperando nuestra respuesta. El cobro está detenido.";
    StatusAnswerWaiting => "We have answered. Open the answer below.", "Hemos respondido. Abra la respuesta abajo.";
    StatusAnswered => "Answered", "Respondida";
    StatusClosed => "Closed: the account is closed", "Cerrada: la cuenta está cerrada";
    YourReason => "Reason", "Motivo";
    YourWords => "Your description", "Su descripción";
    OriginalCreditorAsked => "You asked for the name and address of the original creditor.", "Usted pidió el nombre y la dirección del acreedor original.";
    DocumentsTitle => "Documents", "Documentos";
    FromYou => "sent by you", "enviado por usted";
    FromUs => "sent by us", "enviado por nosotros";
    AddDocument => "Add a document", "Agregar un documento";
    Upload => "Upload", "Subir";
    AnswerTitle => "Our answer", "Nuestra respuesta";
    AnswerConsent => "I agree to receive this answer and related disclosures electronically, and I can open and keep this page (print or save it).",
        "Acepto recibir esta respuesta y la información relacionada de forma electrónica, y puedo abrir y guardar esta página (imprimirla o guardarla).";
    ShowAnswer => "Show the answer", "Mostrar la respuesta";
    AnswerVerified => "We checked the debt and it is correct. The documents that show it are listed below.", "Revisamos la deuda y es correcta. Los documentos que lo demuestran aparecen abajo.";
    AnswerCorrected => "We corrected the debt. Your balance now shows the correction.", "Corregimos la deuda. Su saldo ya muestra la corrección.";
    AnswerClosed => "We closed the account. You owe nothing more on it.", "Cerramos la cuenta. No debe nada más en ella.";
    AnswerDuplicate => "This dispute repeats an earlier one, with no new information. Our earlier answer still applies.", "Esta disputa repite una anterior, sin información nueva. Nuestra respuesta anterior sigue vigente.";
    DisputesTitle => "Disputes", "Disputas";
    DisputeOf => "Dispute of", "Disputa del";
    ReasonMissing => "Choose a reason, or ask for the original creditor.", "Elija un motivo o pida el acreedor original.";
    DetailsMissing => "Please describe the problem when you choose “Other”.", "Describa el problema cuando elija “Otro”.";
    DetailsTooLong => "Your description is too long (4,000 characters at most).", "Su descripción es demasiado larga (4.000 caracteres como máximo).";
    FileTooLarge => "That file is larger than 5 MB. Please send a smaller one.", "Ese archivo pesa más de 5 MB. Envíe uno más pequeño.";
    FileType => "Only PDF, JPEG and PNG files are accepted.", "Solo se aceptan archivos PDF, JPEG y PNG.";
    FileEmpty => "Choose a file first.", "Primero elija un archivo.";
    EvidenceAdded => "Your document was added.", "Su documento fue agregado.";
    AlreadyAnswered => "This dispute is already answered. Open a new dispute to send more.", "Esta disputa ya tiene respuesta. Abra una nueva disputa para enviar más.";
    OriginalCreditorAnswer => "The original creditor's name and address", "Nombre y dirección del acreedor original";
    DisputeNotFound => "There is no such dispute on your account.", "No existe esa disputa en su cuenta.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_wins_then_the_browser_then_english() {
        assert_eq!(
            Lang::negotiate(Some("a=b; settle_lang=es"), Some("en-US")),
            Lang::Es
        );
        assert_eq!(
            Lang::negotiate(None, Some("es-MX,es;q=0.9,en;q=0.8")),
            Lang::Es
        );
        assert_eq!(Lang::negotiate(None, Some("fr-FR,en;q=0.5")), Lang::En);
        assert_eq!(Lang::negotiate(Some("settle_lang=xx"), None), Lang::En);
        assert_eq!(Lang::negotiate(None, None), Lang::En);
    }

    #[test]
    fn every_message_has_two_different_texts_or_a_shared_name() {
        assert_ne!(t(Lang::En, Msg::SiteTitle), t(Lang::Es, Msg::SiteTitle));
        assert_eq!(t(Lang::Es, Msg::Telegram), "Telegram");
    }
}
