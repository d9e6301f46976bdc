//! What the bot says, in English and Spanish. Each text is declared once with both
//! languages, so one missing in either does not compile.

use domain::Language;

/// A text in both languages.
pub(crate) struct Text {
    en: &'static str,
    es: &'static str,
}

impl Text {
    /// The text in `lang`.
    pub(crate) fn get(&self, lang: Language) -> &'static str {
        match lang {
            Language::En => self.en,
            Language::Es => self.es,
        }
    }
}

macro_rules! texts {
    ($($name:ident: $en:expr, $es:expr;)*) => {
        $(pub(crate) const $name: Text = Text { en: $en, es: $es };)*
    };
}

texts! {
    START_WITHOUT_LINK:
        "Hello! This bot works with the secure link from your agency. Open the portal link from your text message or letter, confirm your identity, and choose \"Use Telegram\": that opens this chat with your account connected.",
        "¡Hola! Este bot funciona con el enlace seguro de su agencia. Abra el enlace del portal de su mensaje de texto o carta, confirme su identidad y elija \"Usar Telegram\": así se abre este chat con su cuenta conectada.";
    LINK_USED:
        "This link was already used. For a new one, open the portal, confirm your identity and choose \"Use Telegram\" again.",
        "Este enlace ya se usó. Para uno nuevo, abra el portal, confirme su identidad y elija \"Usar Telegram\" otra vez.";
    LINK_EXPIRED:
        "This link has expired. For a new one, open the portal, confirm your identity and choose \"Use Telegram\" again.",
        "Este enlace venció. Para uno nuevo, abra el portal, confirme su identidad y elija \"Usar Telegram\" otra vez.";
    LINK_UNKNOWN:
        "This link is not valid. Use the link from the portal exactly as it was given.",
        "Este enlace no es válido. Use el enlace del portal tal como se le dio.";
    BOUND:
        "Your account is connected. You will get your reminders here; send /stop at any time to stop them. Choose what you want to do:",
        "Su cuenta está conectada. Recibirá sus recordatorios aquí; envíe /stop en cualquier momento para detenerlos. Elija qué desea hacer:";
    MENU:
        "What do you want to do?",
        "¿Qué desea hacer?";
    NOT_BOUND:
        "This chat is not connected to an account yet.",
        "Este chat aún no está conectado a una cuenta.";
    ASK_IDENTITY:
        "First, let us make sure it is you. Send your date of birth and ZIP code in one message, like this: 1980-04-12 90210",
        "Primero, confirmemos que es usted. Envíe su fecha de nacimiento y su código postal en un mensaje, así: 1980-04-12 90210";
    IDENTITY_FORMAT:
        "Please send the date of birth (year-month-day) and the 5-digit ZIP code, like this: 1980-04-12 90210",
        "Envíe la fecha de nacimiento (año-mes-día) y el código postal de 5 dígitos, así: 1980-04-12 90210";
    IDENTITY_WRONG:
        "That does not match our records. Tries left before a 15-minute pause:",
        "Eso no coincide con nuestros registros. Intentos restantes antes de una pausa de 15 minutos:";
    IDENTITY_LOCKED:
        "Too many wrong answers. For your protection, try again in 15 minutes.",
        "Demasiadas respuestas incorrectas. Para su protección, inténtelo de nuevo en 15 minutos.";
    IDENTITY_OK:
        "Thank you, you are verified in this chat.",
        "Gracias, quedó verificado en este chat.";
    BALANCE_HEAD:
        "is collecting this debt.",
        "está cobrando esta deuda.";
    CREDITOR:
        "Creditor",
        "Acreedor";
    ACCOUNT:
        "Account",
        "Cuenta";
    BALANCE:
        "Balance now",
        "Saldo actual";
    ITEMIZATION:
        "Itemization on",
        "Desglose al";
    OWED_THEN:
        "owed then",
        "adeudado entonces";
    INTEREST:
        "interest since",
        "intereses desde entonces";
    FEES:
        "fees since",
        "cargos desde entonces";
    PAYMENTS:
        "payments since",
        "pagos desde entonces";
    CREDITS:
        "credits since",
        "créditos desde entonces";
    NO_PLAN:
        "You have no payment plan. You can set one up in the portal.",
        "No tiene un plan de pagos. Puede crear uno en el portal.";
    PLAN_STATUS:
        "Payment plan",
        "Plan de pagos";
    NEXT_INSTALMENT:
        "Next instalment",
        "Próxima cuota";
    PLAN_ACTIVE:
        "active",
        "activo";
    PLAN_AWAITING:
        "waiting for a payment method",
        "esperando un método de pago";
    PLAN_COMPLETED:
        "completed",
        "completado";
    PLAN_BROKEN:
        "ended (missed instalments)",
        "terminado (cuotas no pagadas)";
    PAY:
        "Pay or set up a plan in the secure portal (you will confirm your identity there):",
        "Pague o cree un plan en el portal seguro (allí confirmará su identidad):";
    PREFERENCES:
        "Set your contact preferences (times, channels, language) in the secure portal:",
        "Configure sus preferencias de contacto (horarios, canales, idioma) en el portal seguro:";
    OPEN_PORTAL:
        "Open the portal",
        "Abrir el portal";
    CHOOSE_LANGUAGE:
        "Choose your language:",
        "Elija su idioma:";
    LANGUAGE_SET:
        "Language set to English.",
        "Idioma cambiado a español.";
    DISPUTE_ASK:
        "I want to dispute the debt because I think:",
        "Quiero disputar la deuda porque creo que:";
    DISPUTE_NOT_MINE:
        "This is not my debt",
        "Esta deuda no es mía";
    DISPUTE_AMOUNT:
        "The amount is wrong",
        "La cantidad es incorrecta";
    DISPUTE_OTHER:
        "Other",
        "Otro";
    DISPUTE_CREDITOR:
        "Send me the original creditor's name and address",
        "Envíenme el nombre y la dirección del acreedor original";
    DISPUTE_DETAILS:
        "Please write in one message why you dispute the debt.",
        "Escriba en un mensaje por qué disputa la deuda.";
    DISPUTE_RECORDED:
        "Your dispute is recorded. We stop collecting this debt until we answer it. You can add documents in the portal:",
        "Su disputa quedó registrada. Dejamos de cobrar esta deuda hasta responderla. Puede agregar documentos en el portal:";
    CREDITOR_REQUEST_RECORDED:
        "Your request is recorded. We will send you the original creditor's name and address in the portal:",
        "Su solicitud quedó registrada. Le enviaremos el nombre y la dirección del acreedor original en el portal:";
    STOPPED:
        "You will not get more messages from us on Telegram. Send /start to get them again.",
        "No recibirá más mensajes nuestros por Telegram. Envíe /start para recibirlos de nuevo.";
    RESTARTED:
        "You will get messages from us on Telegram again.",
        "Volverá a recibir nuestros mensajes por Telegram.";
    NOTHING_TO_STOP:
        "This chat is not connected to an account, so we send you nothing.",
        "Este chat no está conectado a una cuenta, así que no le enviamos nada.";
    PASSED_ON:
        "Thank you. Your message was passed to the agency.",
        "Gracias. Su mensaje se pasó a la agencia.";
    HELP_CONTACT:
        "To reach the agency:",
        "Para comunicarse con la agencia:";
    BUTTON_BALANCE:
        "Balance",
        "Saldo";
    BUTTON_PAY:
        "Pay",
        "Pagar";
    BUTTON_PLAN:
        "My plan",
        "Mi plan";
    BUTTON_DISPUTE:
        "Dispute",
        "Disputar";
    BUTTON_LANGUAGE:
        "Language",
        "Idioma";
    BUTTON_PREFERENCES:
        "Preferences",
        "Preferencias";
}
