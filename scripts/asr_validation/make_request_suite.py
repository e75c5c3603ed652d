#!/usr/bin/env python3
"""Writes suites/spoken-requests: an intent suite of request-like sentences full of names.

Every sentence is a request to an assistant (play a song, book a table, text a person, order a
product, ...) built from a template of its intent and filled with entities: people's first and
last names, cities, countries and streets, restaurants, artists, song, album, book and film
titles, products and brands, times, dates, prices, counts and ratings, written as digits or as
words. Most of these words are outside the vocabulary of the default suite
(suites/warehouse-commands), which is the point: a speech recogniser breaks such words far more
often than the short function words that carry little meaning, and the validation of the `asr`
family against a real channel (scripts/asr_validation/run_channel.py) needs text where that shows.

All lists and templates below were written for this project (CC0); names of real places and
brands are used as ordinary words. Deterministic from --seed.

Splits: train (prototypes of the MiniLM prototype classifier, --train per intent), calibration
(the text the real channel is measured on to derive the `asr` tables, --calibration in all) and
test (the validation, --test in all). A sentence appears in one split only.

Usage: python3 scripts/asr_validation/make_request_suite.py [--out suites/spoken-requests]
       [--seed 14] [--train 40] [--calibration 300] [--test 400]
"""
import argparse
import json
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

FIRST = """Aaliyah Abigail Adrian Ahmed Aiko Alejandro Alessandra Amara Anastasia Andrei Anika Arjun Astrid
Beatriz Benedikt Bronwyn Callum Camille Carmen Cassius Chiara Chidi Clementine Colm Dagny Dario Deepika
Declan Delphine Dmitri Eamon Ebony Elif Emeka Esperanza Fatima Felipe Fiona Florian Gareth Giulia Gwendolyn
Hamish Hannelore Hiroshi Ingrid Isidore Jacinta Jasper Javier Jolene Kalani Kasimir Keiko Kwame Laszlo
Leopold Lucinda Magnus Malika Marisol Matteo Maximilian Mei Mikhail Mirela Nadia Niamh Nikolai Obadiah
Oksana Olufemi Orla Padraig Paloma Perpetua Priya Quentin Rafael Ramona Rasmus Rohan Rosalind Saoirse
Sebastian Siobhan Soren Svetlana Tariq Thaddeus Theodora Tobias Ursula Valentina Vikram Wilhelmina
Xavier Yaroslav Yusuf Zainab Zoltan Ben Kate Mike Lee Anna Tom Sara Jack Lucy Sam Grace Leo Mia Noah""".split()

LAST = """Abernathy Achterberg Adebayo Alvarado Andersson Babcock Balogun Bergstrom Blackwood Bonaventura
Brennan Castellanos Chakraborty Cheng Chowdhury Cuthbertson Dalgleish DeLuca Dimitriou Donnelly Eriksen
Esposito Fairweather Fitzgerald Fonseca Gallagher Gonzaga Grimaldi Haddad Halvorsen Hargreaves Hashimoto
Ibrahim Iglesias Jankowski Jovanovic Kaczmarek Kapoor Kavanagh Kowalczyk Lindqvist Lombardi Lundgren
MacAllister Maldonado Mbeki Mendelsohn Moreau Nakamura Nwosu Oyelaran Okonkwo Ostrowski Papadopoulos
Pemberton Petrovic Quintero Ramaswamy Rasmussen Rosenthal Santangelo Schellenberg Sokolov Szabo Takahashi
Thistlewood Umarov Vandenberg Villanueva Wainwright Whitfield Yamamoto Zielinski Brown Smith Jones Park
Kim Garcia Miller Davis Wilson Clark Hughes""".split()

CITIES = """Reykjavik Marrakesh Ljubljana Valparaiso Tbilisi Guadalajara Kaohsiung Thessaloniki Bratislava
Winnipeg Albuquerque Chattanooga Tallahassee Saskatoon Kalamazoo Savannah Tucson Boise Spokane Duluth
Edinburgh Aberdeen Galway Bruges Antwerp Rotterdam Gothenburg Trondheim Tampere Krakow Wroclaw Brno Graz
Salzburg Innsbruck Lucerne Lausanne Bordeaux Marseille Montpellier Seville Granada Bilbao Porto Coimbra
Naples Bologna Palermo Dubrovnik Sarajevo Plovdiv Izmir Beirut Amman Muscat Nairobi Kampala Accra Lagos
Casablanca Tunis Cairo Mumbai Chennai Kolkata Colombo Kathmandu Hanoi Manila Jakarta Osaka Sapporo Busan
Auckland Wellington Hobart Perth Adelaide Brisbane Vancouver Halifax Montreal Quebec Boston Denver
Portland Pittsburgh Cleveland Nashville Memphis Houston Phoenix Sacramento Anchorage Honolulu Lima Quito
Bogota Cartagena Montevideo Cordoba Mendoza Santiago Havana Kingston""".split()
CITY_PAIRS = ["San Francisco", "New Orleans", "Los Angeles", "Buenos Aires", "Rio de Janeiro", "Tel Aviv",
              "Kuala Lumpur", "Cape Town", "Salt Lake City", "Mexico City", "Hong Kong", "Saint Louis",
              "Las Vegas", "San Diego", "Santa Fe", "Kansas City", "Baton Rouge", "Fort Worth"]
STREETS = """Alderwood Birchmount Carrington Dunmore Elmhurst Fairhaven Glenwood Harcourt Ivanhoe Juniper
Kensington Larkspur Montague Northcote Oakridge Pembroke Queensbury Ravenscroft Sycamore Thornbury
Underhill Valencia Westbourne Yarborough Zephyr Chestnut Magnolia Wisteria Hawthorne Beacon""".split()
STREET_KINDS = ["Street", "Avenue", "Road", "Lane", "Boulevard", "Drive", "Place", "Crescent", "Terrace"]
PLACES = ["the airport", "the train station", "the nearest pharmacy", "the natural history museum",
          "the botanical gardens", "the aquarium", "the convention center", "the stadium", "the harbour",
          "the university library", "the farmers market", "the ferry terminal", "the city hall",
          "the children's hospital", "the ice rink", "the bowling alley", "the planetarium"]

ADJ = """Silent Golden Broken Electric Velvet Hollow Crimson Paper Midnight Wandering Neon Burning Frozen
Hidden Restless Lonely Scarlet Silver Wild Quiet Distant Shattered Radiant Forgotten Savage Gentle Bitter
Emerald Copper Endless Fragile Hungry Crooked Lucky Northern Southern Invisible Tangled Crystal""".split()
NOUN = """Harbor Lanterns Orchard Compass Avalanche Serpent Meadow Lighthouse Carnival Monsoon Cathedral
Satellite Horizon Wolves Sparrows Anthem Mirage Tide Citadel Kingdom Garden Highway Fever Echoes Thunder
Symphony Voyage Prophecy Ember Glacier Labyrinth Orbit Parade Riddle Saga Tempest Canyon Empire""".split()
PLACE_TITLE = """Tangier Havana Babylon Brooklyn Memphis Avalon Casablanca Zanzibar Kyoto Istanbul Venice
Patagonia Bombay Mississippi Nebraska Marseille""".split()
BANDS_A = """Velvet Arctic Crimson Electric Midnight Neon Paper Golden Broken Silver Howling Lunar Wandering
Feral Cosmic Sleepy Rusty Radio Marble Tidal""".split()
BANDS_B = """Foxes Pilots Monks Astronauts Orchestra Collective Brothers Lanterns Ghosts Tigers Parade Society
Machines Horses Pharaohs Harmonics Cartographers Orchids""".split()
SOLO = ["Madonna", "Beyonce", "Shakira", "Rihanna", "Adele", "Bjork", "Sade", "Enya", "Prince", "Drake",
        "Lizzo", "Moby", "Seal", "Sting", "Bono", "Usher", "Eminem", "Santana"]
GENRES = ["jazz", "reggae", "bossa nova", "bluegrass", "heavy metal", "hip hop", "synth pop", "flamenco",
          "k pop", "afrobeat", "classical piano", "lo-fi beats", "death metal", "gospel", "zydeco",
          "sea shanties", "dubstep", "motown", "klezmer", "cumbia"]
DECADES = ["60s", "70s", "80s", "90s", "sixties", "seventies", "eighties", "nineties", "2000s"]
PLAYLISTS = ["workout", "road trip", "Sunday morning", "dinner party", "study", "rainy day", "throwback",
             "wedding", "running", "chill vibes", "focus", "barbecue", "late night", "summer", "gym"]
RESTAURANT_KIND = ["Trattoria", "Bistro", "Brasserie", "Kitchen", "Taqueria", "Noodle Bar", "Steakhouse",
                   "Cantina", "Osteria", "Tavern", "Dumpling House", "Sushi Bar", "Creperie", "Grill"]
CUISINE = ["Ethiopian", "Peruvian", "Vietnamese", "Lebanese", "Georgian", "Sichuan", "Basque", "Moroccan",
           "Korean", "Oaxacan", "Sri Lankan", "Hungarian", "Portuguese", "Malaysian", "Turkish", "Nepalese"]
BRANDS = ["Logitech", "Sennheiser", "Nespresso", "Dyson", "Lego", "Patagonia", "Bose", "Philips", "Garmin",
          "Panasonic", "Kitchenaid", "Samsonite", "Moleskine", "Duracell", "Energizer", "Brita", "Vitamix",
          "Rubbermaid", "Tupperware", "Osprey", "Timberland", "Birkenstock", "Fujifilm", "Olympus"]
PRODUCTS = ["wireless mouse", "noise cancelling headphones", "coffee capsules", "cordless vacuum",
            "building blocks set", "rain jacket", "bluetooth speaker", "electric toothbrush", "running watch",
            "rice cooker", "stand mixer", "carry-on suitcase", "hardcover notebook", "double A batteries",
            "water filter", "blender", "storage containers", "hiking backpack", "leather boots", "sandals",
            "instant camera", "mechanical keyboard", "yoga mat", "espresso grinder", "dehumidifier",
            "phone charger", "desk lamp", "ergonomic chair", "cast iron skillet", "air fryer"]
STORES = ["Amazon", "Walmart", "Target", "Costco", "Best Buy", "Ikea", "Home Depot", "Walgreens", "eBay",
          "Etsy", "Tesco", "Sainsbury's", "Wayfair", "Zalando"]
CINEMAS = ["the Odeon", "the Roxy", "Cineplex Downtown", "the Paramount", "the Rialto", "the Bijou",
           "Regal Fenway", "the Electric Palace", "the Majestic", "Harkins Scottsdale", "the Orpheum"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
NUM_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
             "eleven", "twelve"]
ORDINAL_WORDS = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
                 "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
                 "seventeenth", "eighteenth", "nineteenth", "twentieth", "twenty first", "twenty second",
                 "twenty third", "twenty fourth", "twenty fifth", "twenty sixth", "twenty seventh",
                 "twenty eighth", "twenty ninth", "thirtieth"]
MESSAGES = ["I'm running twenty minutes late", "the package arrived", "dinner is at eight",
            "happy birthday from all of us", "can you pick up the kids from soccer", "I left my keys at the office",
            "the meeting moved to Thursday", "bring the projector for the workshop", "we landed safely",
            "don't forget the concert tickets", "call me when you get to the hotel", "I'll meet you at the gallery",
            "the plumber is coming at noon", "save me a seat near the stage"]


class Gen:
    def __init__(self, rng):
        self.r = rng

    def c(self, xs):
        return self.r.choice(xs)

    def person(self):
        k = self.r.random()
        if k < 0.45:
            return f"{self.c(FIRST)} {self.c(LAST)}"
        if k < 0.85:
            return self.c(FIRST)
        return f"{self.c(['Doctor', 'Professor', 'Aunt', 'Uncle', 'Grandma', 'Coach'])} {self.c(LAST)}"

    def city(self):
        return self.c(CITY_PAIRS) if self.r.random() < 0.2 else self.c(CITIES)

    def title(self):
        k = self.r.random()
        if k < 0.35:
            return f"{self.c(['The ', ''])}{self.c(ADJ)} {self.c(NOUN)}"
        if k < 0.55:
            return f"{self.c(['Midnight', 'Summer', 'Winter', 'Rain', 'Dancing', 'Lost'])} in {self.c(PLACE_TITLE)}"
        if k < 0.75:
            return f"{self.c(NOUN)} of the {self.c(ADJ)} {self.c(NOUN)}"
        if k < 0.9:
            return f"{self.c(FIRST)}'s {self.c(NOUN)}"
        return f"The {self.c(NOUN)}"

    def artist(self):
        k = self.r.random()
        if k < 0.4:
            return f"the {self.c(BANDS_A)} {self.c(BANDS_B)}"
        if k < 0.7:
            return f"{self.c(FIRST)} {self.c(LAST)}"
        return self.c(SOLO)

    def restaurant(self):
        k = self.r.random()
        if k < 0.5:
            return f"{self.c(FIRST)}'s {self.c(RESTAURANT_KIND)}"
        if k < 0.8:
            return f"the {self.c(ADJ)} {self.c(RESTAURANT_KIND)}"
        return f"{self.c(['Casa', 'Chez', 'La Maison', 'Villa'])} {self.c(FIRST)}"

    def street(self):
        n = self.r.randint(1, 2400)
        return f"{n} {self.c(STREETS)} {self.c(STREET_KINDS)}"

    def small(self, lo=1, hi=12):
        n = self.r.randint(lo, hi)
        return NUM_WORDS[n] if n < len(NUM_WORDS) and self.r.random() < 0.5 else str(n)

    def clock(self):
        h = self.r.randint(1, 12)
        m = self.c([0, 0, 15, 30, 45, 5, 20, 40])
        ampm = self.c(["am", "pm", "in the morning", "in the evening", ""])
        if self.r.random() < 0.5:
            t = f"{h}:{m:02d}" if m else str(h)
        else:
            t = NUM_WORDS[h] if h < len(NUM_WORDS) else str(h)
            if m:
                t += " " + {5: "oh five", 15: "fifteen", 20: "twenty", 30: "thirty", 40: "forty",
                            45: "forty five"}[m]
        return f"{t} {ampm}".strip()

    def when(self):
        k = self.r.random()
        if k < 0.3:
            return self.c(["tomorrow", "tonight", "this weekend", "next week", "today", "tomorrow morning"])
        if k < 0.6:
            return f"on {self.c(WEEKDAYS)}"
        if k < 0.8:
            d = self.r.randint(1, 30)
            return f"on {self.c(MONTHS)} {ORDINAL_WORDS[d] if self.r.random() < 0.5 else str(d) + self.suffix(d)}"
        return f"next {self.c(WEEKDAYS)}"

    @staticmethod
    def suffix(d):
        return "th" if 11 <= d % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")

    def price(self):
        n = self.r.choice([15, 20, 25, 30, 40, 50, 75, 80, 99, 120, 150, 200, 250, 300, 500])
        return self.c([f"${n}", f"{n} dollars", f"{n} euros", f"{n} pounds"])


def t_play_music(g):
    return g.c([
        lambda: f"play {g.title()} by {g.artist()}",
        lambda: f"put on some {g.c(GENRES)} from the {g.c(DECADES)}",
        lambda: f"I want to hear {g.artist()} live in {g.city()}",
        lambda: f"play the album {g.title()}",
        lambda: f"can you play something by {g.artist()}",
        lambda: f"start my {g.c(PLAYLISTS)} playlist on shuffle",
        lambda: f"play {g.c(DECADES)} {g.c(GENRES)} in the kitchen",
        lambda: f"play the song {g.title()} from {g.artist()}",
    ])()


def t_add_to_playlist(g):
    return g.c([
        lambda: f"add {g.title()} by {g.artist()} to my {g.c(PLAYLISTS)} playlist",
        lambda: f"put this track on the {g.c(PLAYLISTS)} list",
        lambda: f"save {g.title()} to {g.person()}'s {g.c(PLAYLISTS)} mix",
        lambda: f"add some {g.c(GENRES)} to my {g.c(PLAYLISTS)} playlist",
        lambda: f"include {g.artist()} in the {g.c(PLAYLISTS)} playlist",
        lambda: f"add this song to {g.title()}",
    ])()


def t_book_restaurant(g):
    return g.c([
        lambda: f"book a table for {g.small(2, 9)} at {g.restaurant()} {g.when()}",
        lambda: f"reserve a table at {g.restaurant()} in {g.city()} for {g.small(2, 8)} people at {g.clock()}",
        lambda: f"find me a {g.c(CUISINE)} restaurant in {g.city()} for {g.when()}",
        lambda: f"I need a reservation for {g.small(2, 12)} at a {g.c(CUISINE)} place near {g.street()}",
        lambda: f"get us a table at {g.restaurant()} at {g.clock()}",
    ])()


def t_get_weather(g):
    return g.c([
        lambda: f"what's the weather in {g.city()} {g.when()}",
        lambda: f"will it rain in {g.city()} {g.when()}",
        lambda: f"how cold will it be in {g.city()} at {g.clock()}",
        lambda: f"is there a storm coming to {g.city()} {g.when()}",
        lambda: f"forecast for {g.city()} {g.when()}",
        lambda: f"do I need an umbrella in {g.city()} {g.when()}",
    ])()


def t_rate_book(g):
    return g.c([
        lambda: f"give {g.title()} {g.small(1, 5)} out of {g.c(['5', 'five', '10', 'ten'])} stars",
        lambda: f"rate the novel {g.title()} by {g.person()} {g.small(1, 5)} points",
        lambda: f"I'd give {g.title()} a rating of {g.small(1, 6)}",
        lambda: f"rate this book {g.small(1, 5)} stars",
        lambda: f"mark {g.title()} by {g.person()} as {g.small(1, 5)} stars",
    ])()


def t_find_movie(g):
    return g.c([
        lambda: f"when is {g.title()} playing at {g.c(CINEMAS)}",
        lambda: f"find showtimes for {g.title()} near {g.city()}",
        lambda: f"what films are on at {g.c(CINEMAS)} {g.when()}",
        lambda: f"is {g.title()} still showing in {g.city()}",
        lambda: f"get me two tickets for {g.title()} at {g.clock()}",
    ])()


def t_send_message(g):
    return g.c([
        lambda: f"text {g.person()} that {g.c(MESSAGES)}",
        lambda: f"send a message to {g.person()} saying {g.c(MESSAGES)}",
        lambda: f"tell {g.person()} {g.c(MESSAGES)}",
        lambda: f"message {g.person()} on WhatsApp {g.c(MESSAGES)}",
        lambda: f"write to {g.person()} and say {g.c(MESSAGES)}",
    ])()


def t_call(g):
    return g.c([
        lambda: f"call {g.person()}",
        lambda: f"call {g.person()} on {g.c(['her', 'his', 'their'])} mobile",
        lambda: f"dial {g.person()} at work",
        lambda: f"ring {g.person()} back",
        lambda: f"phone {g.restaurant()} in {g.city()}",
        lambda: f"video call {g.person()} {g.when()}",
        lambda: f"call {g.restaurant()} and ask if they are open {g.when()}",
    ])()


def t_navigate(g):
    return g.c([
        lambda: f"take me to {g.street()}",
        lambda: f"directions to {g.c(PLACES)} in {g.city()}",
        lambda: f"navigate to {g.restaurant()} avoiding tolls",
        lambda: f"how do I get to {g.street()} from {g.c(PLACES)}",
        lambda: f"drive to {g.city()} by way of {g.city()}",
        lambda: f"show me the fastest route to {g.c(PLACES)}",
    ])()


def t_order_product(g):
    return g.c([
        lambda: f"order {g.small(1, 6)} {g.c(BRANDS)} {g.c(PRODUCTS)} from {g.c(STORES)}",
        lambda: f"buy a {g.c(PRODUCTS)} for under {g.price()}",
        lambda: f"add a {g.c(BRANDS)} {g.c(PRODUCTS)} to my {g.c(STORES)} cart",
        lambda: f"reorder the {g.c(BRANDS)} {g.c(PRODUCTS)} I bought {g.c(['last month', 'in ' + g.c(MONTHS)])}",
        lambda: f"get me a {g.c(PRODUCTS)} from {g.c(STORES)} delivered {g.when()}",
    ])()


def t_set_alarm(g):
    return g.c([
        lambda: f"wake me up at {g.clock()} {g.when()}",
        lambda: f"set an alarm for {g.clock()}",
        lambda: f"remind me to call {g.person()} at {g.clock()}",
        lambda: f"set a timer for {g.small(2, 12)} minutes",
        lambda: f"alarm at {g.clock()} every {g.c(WEEKDAYS)}",
        lambda: f"remind me about {g.person()}'s birthday {g.when()}",
    ])()


INTENTS = [("play_music", t_play_music), ("add_to_playlist", t_add_to_playlist),
           ("book_restaurant", t_book_restaurant), ("get_weather", t_get_weather), ("rate_book", t_rate_book),
           ("find_movie", t_find_movie), ("send_message", t_send_message), ("call", t_call),
           ("navigate", t_navigate), ("order_product", t_order_product), ("set_alarm", t_set_alarm)]


def finish(text, rng):
    text = re.sub(r"\s+", " ", text).strip()
    text = text[0].upper() + text[1:]
    if rng.random() < 0.35:
        question = text.split()[0].lower() in ("what's", "will", "how", "is", "when", "what", "do", "can")
        text += "?" if question else rng.choice([".", ".", " please.", ", please."])
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "suites/spoken-requests"))
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--train", type=int, default=40, help="train sentences per intent")
    ap.add_argument("--calibration", type=int, default=300)
    ap.add_argument("--test", type=int, default=400)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    g = Gen(rng)
    seen = set()
    rows = []

    def draw(label, make):
        for _ in range(1000):
            t = finish(make(g), rng)
            if t.lower() not in seen:
                seen.add(t.lower())
                return t
        raise SystemExit(f"could not draw a new sentence for {label}")

    for label, make in INTENTS:
        for i in range(args.train):
            rows.append({"text": draw(label, make), "label": label, "split": "train"})
    for split, n in (("calibration", args.calibration), ("test", args.test)):
        for i in range(n):
            label, make = INTENTS[i % len(INTENTS)] if i < len(INTENTS) else rng.choice(INTENTS)
            rows.append({"text": draw(label, make), "label": label, "split": split})
    counters = {}
    for r in rows:
        k = counters.get(r["split"], 0)
        counters[r["split"]] = k + 1
        r["id"] = f"{r['split']}-{k:04d}"
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "data.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"id": r["id"], "text": r["text"], "label": r["label"], "split": r["split"]},
                               ensure_ascii=False) + "\n")
    labels = ", ".join(f'"{l}"' for l, _ in INTENTS)
    with open(os.path.join(args.out, "suite.toml"), "w", encoding="utf-8") as f:
        f.write(f'''name = "spoken-requests"
description = "Requests to a voice assistant full of names, titles, places, products and numbers (made by scripts/asr_validation/make_request_suite.py --seed {args.seed}); for validating the asr family against a real speech channel."
task = "classify"
labels = [{labels}]
data = ["data.jsonl"]
schemes = ["f32"]
corruptions = "asr:1-5,disfluent:1-5"
prototypes_per_label = {args.train}
''')
    # How far the vocabulary is from the default suite's.
    default = set()
    with open(os.path.join(ROOT, "suites/warehouse-commands/data.jsonl"), encoding="utf-8") as f:
        for line in f:
            default.update(re.findall(r"[a-z0-9']+", json.loads(line)["text"].lower()))
    tokens = [w for r in rows if r["split"] == "test" for w in re.findall(r"[a-z0-9']+", r["text"].lower())]
    oov = sum(w not in default for w in tokens)
    print(f"{len(rows)} sentences; test tokens outside the default suite's vocabulary: {oov}/{len(tokens)} "
          f"({100 * oov / len(tokens):.0f}%)")


if __name__ == "__main__":
    main()
