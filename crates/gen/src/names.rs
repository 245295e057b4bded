//! The places, languages and word lists names are made from: trend names in the
//! scripts of the places that trend them (Latin with Portuguese, Spanish, French and
//! German accents, Japanese, Arabic, Korean), account handles, and the random helpers
//! every generator shares.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The language (and so the script) of a place's trends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Pt,
    Es,
    Fr,
    De,
    Ja,
    Ar,
    Ko,
}

/// A place as X's trends endpoints name it: its WOEID, name, language and UTC offset
/// in hours (for the daily rhythm, which follows local time).
pub struct Place {
    pub id: &'static str,
    pub name: &'static str,
    pub lang: Lang,
    pub utc_offset: i32,
}

const fn place(id: &'static str, name: &'static str, lang: Lang, utc_offset: i32) -> Place {
    Place { id, name, lang, utc_offset }
}

/// Fifty places; the first ones are the countries, so `--places 10` keeps a varied set.
pub const PLACES: [Place; 50] = [
    place("23424768", "Brazil", Lang::Pt, -3),
    place("23424977", "United States", Lang::En, -5),
    place("23424856", "Japan", Lang::Ja, 9),
    place("23424938", "Saudi Arabia", Lang::Ar, 3),
    place("23424950", "Spain", Lang::Es, 1),
    place("23424925", "Portugal", Lang::Pt, 0),
    place("23424868", "South Korea", Lang::Ko, 9),
    place("23424819", "France", Lang::Fr, 1),
    place("23424829", "Germany", Lang::De, 1),
    place("23424975", "United Kingdom", Lang::En, 0),
    place("23424900", "Mexico", Lang::Es, -6),
    place("23424802", "Egypt", Lang::Ar, 2),
    place("23424747", "Argentina", Lang::Es, -3),
    place("23424848", "India", Lang::En, 5),
    place("23424775", "Canada", Lang::En, -5),
    place("23424787", "Colombia", Lang::Es, -5),
    place("23424782", "Chile", Lang::Es, -4),
    place("23424738", "United Arab Emirates", Lang::Ar, 4),
    place("23424870", "Kuwait", Lang::Ar, 3),
    place("23424748", "Australia", Lang::En, 10),
    place("23424908", "Nigeria", Lang::En, 1),
    place("23424934", "Philippines", Lang::En, 8),
    place("23424919", "Peru", Lang::Es, -5),
    place("23424982", "Venezuela", Lang::Es, -4),
    place("1", "Worldwide", Lang::En, 0),
    place("455827", "São Paulo", Lang::Pt, -3),
    place("455825", "Rio de Janeiro", Lang::Pt, -3),
    place("455821", "Belo Horizonte", Lang::Pt, -3),
    place("455819", "Brasília", Lang::Pt, -3),
    place("455826", "Salvador", Lang::Pt, -3),
    place("455823", "Porto Alegre", Lang::Pt, -3),
    place("455824", "Recife", Lang::Pt, -3),
    place("455822", "Curitiba", Lang::Pt, -3),
    place("455830", "Fortaleza", Lang::Pt, -3),
    place("455833", "Manaus", Lang::Pt, -4),
    place("742676", "Lisbon", Lang::Pt, 0),
    place("1118370", "Tokyo", Lang::Ja, 9),
    place("15015370", "Osaka", Lang::Ja, 9),
    place("1939753", "Riyadh", Lang::Ar, 3),
    place("1939873", "Jeddah", Lang::Ar, 3),
    place("1521894", "Cairo", Lang::Ar, 2),
    place("1940345", "Dubai", Lang::Ar, 4),
    place("2459115", "New York", Lang::En, -5),
    place("2442047", "Los Angeles", Lang::En, -8),
    place("2379574", "Chicago", Lang::En, -6),
    place("44418", "London", Lang::En, 0),
    place("766273", "Madrid", Lang::Es, 1),
    place("116545", "Mexico City", Lang::Es, -6),
    place("468739", "Buenos Aires", Lang::Es, -3),
    place("615702", "Paris", Lang::Fr, 1),
];

/// Words of each language; names are hashtags, phrases or people made of them.
fn words(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::En => &[
            "Super",
            "Bowl",
            "Monday",
            "Motivation",
            "Final",
            "Season",
            "Premiere",
            "Election",
            "Debate",
            "Storm",
            "Champions",
            "League",
            "Music",
            "Awards",
            "Tour",
            "Launch",
            "Game",
            "Night",
            "Breaking",
            "News",
            "Summer",
            "Festival",
            "Derby",
            "Playoffs",
            "Trailer",
        ],
        Lang::Pt => &[
            "Eleições",
            "Copa",
            "Brasil",
            "Seleção",
            "Flamengo",
            "Palmeiras",
            "Grêmio",
            "São",
            "João",
            "Coração",
            "Ação",
            "Verão",
            "Carnaval",
            "Novela",
            "Final",
            "Campeão",
            "Paraná",
            "Maranhão",
            "Ceará",
            "Feijão",
            "Estreia",
            "Show",
            "Votação",
            "Previsão",
            "Açaí",
        ],
        Lang::Es => &[
            "Elecciones",
            "Fútbol",
            "Clásico",
            "Campeón",
            "Canción",
            "Estreno",
            "Selección",
            "Mañana",
            "Año",
            "Niño",
            "Copa",
            "Liga",
            "Noche",
            "Música",
            "Boletín",
            "Jalisco",
            "Córdoba",
            "Tormenta",
            "Concierto",
            "Votación",
        ],
        Lang::Fr => &[
            "Élection",
            "Grève",
            "Météo",
            "Fête",
            "Musique",
            "Festival",
            "Équipe",
            "Coupe",
            "Été",
            "Hôpital",
            "Rentrée",
            "Télé",
            "Château",
            "Noël",
            "Réforme",
            "Finale",
            "Chanson",
            "Ligue",
            "Soirée",
            "Débat",
        ],
        Lang::De => &[
            "Wahl",
            "Bundesliga",
            "Straße",
            "Größe",
            "Müller",
            "Köln",
            "München",
            "Düsseldorf",
            "Nachrichten",
            "Wetter",
            "Sommer",
            "Fußball",
            "Pokal",
            "Konzert",
            "Schön",
            "Tatort",
            "Gipfel",
            "Streik",
            "Spiel",
            "Über",
        ],
        Lang::Ja => &[
            "地震",
            "紅白歌合戦",
            "新曲",
            "大谷翔平",
            "選挙",
            "台風",
            "ライブ",
            "発表",
            "東京",
            "大阪",
            "花火",
            "桜",
            "ドラマ",
            "最終回",
            "速報",
            "優勝",
            "映画",
            "アニメ",
            "誕生日",
            "ゲーム",
        ],
        Lang::Ar => &[
            "الهلال",
            "النصر",
            "رمضان",
            "عيد",
            "السعودية",
            "كأس",
            "العالم",
            "الاتحاد",
            "الرياض",
            "جدة",
            "مصر",
            "القاهرة",
            "الأهلي",
            "الزمالك",
            "اليوم",
            "الوطني",
            "مباراة",
            "حفل",
            "أخبار",
            "الطقس",
        ],
        Lang::Ko => &[
            "컴백",
            "뮤직뱅크",
            "서울",
            "부산",
            "선거",
            "태풍",
            "콘서트",
            "드라마",
            "축구",
            "생일",
            "신곡",
            "발표",
            "야구",
            "월드컵",
            "첫방송",
            "축하",
            "팬미팅",
            "인기가요",
            "예능",
            "속보",
        ],
    }
}

/// First and last names, for trends that are people.
fn people(lang: Lang) -> (&'static [&'static str], &'static [&'static str]) {
    match lang {
        Lang::Pt => (
            &["João", "Lúcia", "Antônio", "Luísa", "Gonçalo", "Thaís", "Vinícius", "Mônica", "Caio", "Ana"],
            &["Araújo", "Conceição", "Magalhães", "Gonçalves", "Simões", "Brandão", "Falcão", "Lima", "Silva", "Sousa"],
        ),
        Lang::Es => (
            &["José", "María", "Sebastián", "Lucía", "Andrés", "Sofía", "Martín", "Ramón"],
            &["García", "Martínez", "Pérez", "Gómez", "Núñez", "Ibáñez", "Muñoz", "Díaz"],
        ),
        Lang::Fr => {
            (&["Zoé", "Loïc", "Hélène", "Jérôme", "Inès"], &["Lefèvre", "Dubois", "Bérenger", "Moreau", "Gaël"])
        }
        Lang::De => (&["Jürgen", "Käthe", "Jörg", "Lena"], &["Schäfer", "Müller", "Weiß", "Bäcker"]),
        _ => (
            &["Taylor", "Chris", "Jordan", "Megan", "Kevin", "Olivia", "Marcus", "Ava", "Liam", "Nora"],
            &["Swift", "Walker", "Brooks", "Carter", "Hughes", "Reed", "Bennett", "Foster", "Hayes", "Price"],
        ),
    }
}

/// A trend name in the language of a place: a hashtag, a phrase or a person.
pub fn trend_name(rng: &mut ChaCha8Rng, lang: Lang) -> String {
    let w = words(lang);
    let a = pick(rng, w);
    let b = pick(rng, w);
    let form = rng.random_range(0..10u8);
    match lang {
        Lang::Ja => match form {
            0..=4 => format!("#{a}"),
            5..=7 => format!("{a}{b}"),
            _ => format!("#{a}{}", rng.random_range(2020..2027)),
        },
        Lang::Ar => match form {
            0..=4 => format!("#{a}_{b}"),
            5..=7 => format!("{a} {b}"),
            _ => format!("#{a}"),
        },
        Lang::Ko => match form {
            0..=5 => format!("#{a}{b}"),
            _ => format!("{a} {b}"),
        },
        _ => match form {
            0..=3 => format!("#{a}{b}"),
            4 => format!("#{a}{}", rng.random_range(20..=27)),
            5..=7 => format!("{a} {b}"),
            _ => {
                let (first, last) = people(lang);
                format!("{} {}", pick(rng, first), pick(rng, last))
            }
        },
    }
}

/// A handle for the author with this number, the same whenever the number comes again.
pub fn handle(n: u64) -> String {
    const SYLLABLES: [&str; 16] = [
        "ana", "bel", "cris", "dan", "edu", "fer", "gui", "ju", "leo", "mari", "nando", "pri", "rafa", "tati", "vini",
        "zé",
    ];
    let h = mix(n);
    let a = SYLLABLES[(h % 16) as usize];
    let b = SYLLABLES[((h >> 4) % 16) as usize];
    format!("{a}{b}_{}", n % 10_000)
}

/// A follower count for the author with this number: Pareto-distributed (a few huge
/// accounts, most small), the same whenever the number comes again.
pub fn followers(n: u64) -> i64 {
    // A uniform draw in (0, 1] from the hash, then the inverse of the Pareto CDF.
    let u = ((mix(n ^ 0x5DEE_CE66) >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    (30.0 * u.powf(-1.0 / 1.05)).min(80_000_000.0) as i64
}

/// SplitMix64's finaliser: a fixed, well-mixed hash of a number.
pub fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One item of a non-empty list.
pub fn pick<'a>(rng: &mut ChaCha8Rng, list: &[&'a str]) -> &'a str {
    list.get(rng.random_range(0..list.len().max(1))).copied().unwrap_or_default()
}

/// The daily rhythm at a local hour (fractional): lowest around 04:00, highest in the
/// late afternoon and evening.
pub fn daily(hour: f64) -> f64 {
    let phase = (hour - 4.0) / 24.0 * std::f64::consts::TAU;
    0.55 - 0.45 * phase.cos() + 0.15 * ((hour - 21.0) / 24.0 * std::f64::consts::TAU).cos().max(0.0)
}

/// The weekly rhythm (0 is Monday): busier at the weekend, quieter on Monday.
pub fn weekly(day: u32) -> f64 {
    match day {
        0 => 0.9,
        5 | 6 => 1.2,
        _ => 1.0,
    }
}
